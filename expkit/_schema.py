"""The one schema table of every frame expkit builds: frame, column, dtype, meaning.

Declared once here; ``expkit.frames`` builds, casts and checks every frame against it, and the
README's table is generated from it (``python -m expkit._schema`` prints the Markdown).

Cells of ``object`` columns hold plain Python values: ``deployments``, ``tags``, ``parent_ids``
and ``values`` are lists of str; ``rollout_weights`` is a dict ``{variant_key: number}``;
``versions.config`` is the version's full ``flagConfig`` dict; ``extra`` is a dict of the
record's fields that have no column of their own (never dropped).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

# Final: their literal types select pandas-stubs' typed overloads of pd.array / astype
STRING: Final = "string"
INT: Final = "Int64"
FLOAT: Final = "Float64"
BOOL: Final = "boolean"
TIME: Final = "datetime64[ns, UTC]"
OBJECT: Final = "object"

# (frame, column, dtype, meaning); frames and columns in display order
_TABLE: tuple[tuple[str, str, str, str], ...] = (
    ("configs", "id", STRING, "config id"),
    ("configs", "kind", STRING, '"flag" or "experiment"'),
    ("configs", "project_id", STRING, "project id"),
    ("configs", "key", STRING, "config key"),
    ("configs", "name", STRING, "display name"),
    ("configs", "description", STRING, "description"),
    ("configs", "enabled", BOOL, "active"),
    ("configs", "archived", BOOL, "archived"),
    ("configs", "deleted", BOOL, "deleted"),
    ("configs", "evaluation_mode", STRING, '"remote" or "local"'),
    ("configs", "bucketing_key", STRING, "user property bucketed on"),
    ("configs", "bucketing_salt", STRING, "bucketing salt"),
    ("configs", "bucketing_unit", STRING, "bucketing unit (group type)"),
    ("configs", "rollout_percentage", FLOAT, "% of everyone else (no segment matched) allocated"),
    ("configs", "rollout_weights", OBJECT, "dict variant key → weight, for everyone else"),
    ("configs", "n_variants", INT, "number of variants"),
    ("configs", "n_segments", INT, "number of target segments"),
    ("configs", "deployments", OBJECT, "list of deployment ids"),
    ("configs", "tags", OBJECT, "list of tags"),
    ("configs", "parent_ids", OBJECT, "list of parent config ids (parentDependencies)"),
    ("configs", "state", STRING, "experiments: planning, running, decision-made, …"),
    ("configs", "experiment_type", STRING, "experiments: a-b-test, multi-arm-bandit"),
    ("configs", "decision", STRING, "experiments: rollout, rollback, continue-running"),
    ("configs", "decision_reason", STRING, "experiments: decision reason"),
    ("configs", "rolled_out_variant", STRING, "experiments: variant rolled out"),
    ("configs", "sticky_bucketing", BOOL, "experiments: sticky bucketing"),
    ("configs", "start_date", TIME, "experiments: start date"),
    ("configs", "end_date", TIME, "experiments: end date"),
    ("configs", "created_by", STRING, "creator"),
    ("configs", "created_at", TIME, "creation time"),
    ("configs", "last_modified_by", STRING, "last editor"),
    ("configs", "last_modified_at", TIME, "last modification time"),
    ("configs", "extra", OBJECT, "dict of fields without a column (e.g. parentDependencies)"),
    ("variants", "config_id", STRING, "config id"),
    ("variants", "kind", STRING, '"flag" or "experiment"'),
    ("variants", "config_key", STRING, "config key"),
    ("variants", "variant_key", STRING, "variant key"),
    ("variants", "name", STRING, "display name"),
    ("variants", "description", STRING, "description"),
    ("variants", "payload", STRING, "payload as JSON text"),
    ("variants", "rollout_weight", FLOAT, "weight for everyone else"),
    ("variants", "share", FLOAT, "weight / Σ weights of the config's variants (0 if none)"),
    ("variants", "extra", OBJECT, "dict of fields without a column"),
    ("segments", "config_id", STRING, "config id"),
    ("segments", "kind", STRING, '"flag" or "experiment"'),
    ("segments", "config_key", STRING, "config key"),
    ("segments", "segment_index", INT, "position in targetSegments, from 0"),
    ("segments", "name", STRING, "segment name"),
    ("segments", "percentage", FLOAT, "% of matched users allocated"),
    ("segments", "bucketing_key", STRING, "user property bucketed on"),
    ("segments", "rollout_weights", OBJECT, "dict variant key → weight"),
    ("segments", "n_conditions", INT, "number of conditions"),
    ("segments", "extra", OBJECT, "dict of fields without a column"),
    ("conditions", "config_id", STRING, "config id"),
    ("conditions", "kind", STRING, '"flag" or "experiment"'),
    ("conditions", "config_key", STRING, "config key"),
    ("conditions", "segment_index", INT, "position of the segment, from 0"),
    ("conditions", "condition_index", INT, "position in the segment's conditions, from 0"),
    ("conditions", "type", STRING, 'condition type ("property")'),
    ("conditions", "prop", STRING, "property name"),
    ("conditions", "op", STRING, "operator"),
    ("conditions", "values", OBJECT, "list of values (str)"),
    ("conditions", "extra", OBJECT, "dict of fields without a column"),
    ("versions", "config_id", STRING, "config id"),
    ("versions", "kind", STRING, '"flag" or "experiment"'),
    ("versions", "config_key", STRING, "config key"),
    ("versions", "version", INT, "version number, from 1"),
    ("versions", "created_at", TIME, "when the change was made"),
    ("versions", "created_by", STRING, "who made it"),
    ("versions", "enabled", BOOL, "active after the change"),
    ("versions", "rollout_percentage", FLOAT, "rollout % after the change"),
    ("versions", "rollout_weights", OBJECT, "dict variant key → weight after the change"),
    ("versions", "n_segments", INT, "number of target segments after the change"),
    ("versions", "config", OBJECT, "the full flagConfig dict"),
    ("versions", "extra", OBJECT, "dict of fields without a column"),
    ("inclusions", "config_id", STRING, "config id"),
    ("inclusions", "kind", STRING, '"flag" or "experiment"'),
    ("inclusions", "config_key", STRING, "config key"),
    ("inclusions", "variant_key", STRING, "variant key"),
    ("inclusions", "inclusion_type", STRING, '"user" or "cohort"'),
    ("inclusions", "position", INT, "index in the variant's list (what removal by index uses)"),
    ("inclusions", "value", STRING, "user / device id, or cohort id"),
    ("deployments", "id", STRING, "deployment id"),
    ("deployments", "project_id", STRING, "project id"),
    ("deployments", "label", STRING, "label"),
    ("deployments", "key", STRING, "deployment key, masked by default (it is a secret)"),
    ("deployments", "deleted", BOOL, "soft-deleted"),
    ("deployments", "extra", OBJECT, "dict of fields without a column"),
    ("groups", "id", STRING, "mutex or holdout id"),
    ("groups", "kind", STRING, '"mutex" or "holdout"'),
    ("groups", "project_id", STRING, "project id"),
    ("groups", "key", STRING, "group key"),
    ("groups", "name", STRING, "display name"),
    ("groups", "description", STRING, "description"),
    ("groups", "deleted", BOOL, "archived"),
    ("groups", "extra", OBJECT, "dict of fields without a column (slots, experiments, …)"),
)

FRAMES: tuple[str, ...] = tuple(dict.fromkeys(row[0] for row in _TABLE))

SCHEMA: MappingProxyType[str, MappingProxyType[str, str]] = MappingProxyType(
    {
        frame: MappingProxyType({col: dtype for f, col, dtype, _ in _TABLE if f == frame})
        for frame in FRAMES
    }
)

DESCRIPTIONS: MappingProxyType[tuple[str, str], str] = MappingProxyType(
    {(frame, col): text for frame, col, _, text in _TABLE}
)


def markdown() -> str:
    """The schema table as Markdown, one table per frame (what the README shows)."""
    out: list[str] = []
    for frame in FRAMES:
        out.append(f"**`{frame}`**\n")
        out.append("| column | dtype | meaning |")
        out.append("|---|---|---|")
        for col, dtype in SCHEMA[frame].items():
            out.append(f"| `{col}` | `{dtype}` | {DESCRIPTIONS[frame, col]} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(markdown())
