"""Time-travel benchmark: requests of a restore vs the minimum; compare of two big projects.

1. A flag with 10 variants and 20 segments goes through a history of edits (payloads,
   weights, a variant added and one removed, segments, rollout, tags, a deployment); then
   ``RestoreEdit`` puts it back at version 1. Printed: the fields that differ (rows of
   ``diff_versions``), the minimal request count (one PATCH when any config field differs,
   one request per variant created, edited or removed, one per deployment added or removed)
   and the requests the plan sent, counted on the fake's request log.
2. ``expkit.compare`` of two projects of 2,500 flags each (10% of them drifted): its time.

``--scale F`` divides the number of configs compared by F. Prints ``key=value`` lines; no
assertion on time.
"""

from __future__ import annotations

import copy
import random
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import line, parser, timed

import expkit
from expkit import frames
from expkit.edits import RestoreEdit
from expkit.fake import State

WRITES = ("POST", "PATCH", "DELETE")
PROJECT_SIZE = 2500


def _segment(i: int, keys: list[str]) -> dict[str, Any]:
    return {
        "name": f"segment-{i:02d}",
        "conditions": [
            {"type": "property", "prop": "country", "op": "is", "values": [f"C{i}", f"D{i}"]},
            {"type": "property", "prop": "gp:plan", "op": "is not", "values": ["trial"]},
        ],
        "percentage": 50 + i,
        "bucketingKey": "amplitude_id",
        "rolloutWeights": {k: 1 + (i + j) % 3 for j, k in enumerate(keys)},
    }


def restore_figures() -> dict[str, Any]:
    state = State()
    client = state.client(rate_limit=None, max_retries=0)
    dep = client.deployments.create("1", "web", "client")["id"]
    keys = [f"v{i:02d}" for i in range(10)]
    created = client.flags.create(
        "1",
        "big-flag",
        variants=[{"key": k, "payload": {"n": i}} for i, k in enumerate(keys)],
        rollout_weights={k: 1 for k in keys},
        target_segments=[_segment(i, keys) for i in range(20)],
    )
    fid = str(created["id"])
    f = client.flags
    # a history: 3 payloads, 2 weights, a variant added, one removed, segments, rollout, tags
    for k in keys[:3]:
        f.edit_variant(fid, k, payload={"n": 100})
    for k in keys[3:5]:
        f.edit_variant(fid, k, rollout_weight=7)
    f.create_variant(fid, "v-new", payload={"n": -1}, rollout_weight=2)
    segments = f.get(fid)["targetSegments"]
    segments[4]["percentage"] = 5
    segments[9]["conditions"][0]["values"] = ["XX"]
    f.edit(fid, target_segments=segments[:-1], rollout_percentage=80, enabled=True)
    f.edit(fid, tags=["big", "demo"])
    f.add_deployments(fid, [dep])
    # removing a variant drops it from every segment's weights: done last, so the segments
    # above still name it
    f.remove_variant(fid, keys[9])

    old = f.version(fid, 1)["flagConfig"]
    diff = expkit.diff_versions(f.get(fid), old)
    plan = RestoreEdit.load(client, fid, 1, audit_log=False)
    # the minimum, counted from the field-level diff alone (not from the plan): one PATCH
    # when any config field differs, one request per variant that differs in any way, one
    # per deployment added or removed
    now, then = f.get(fid), old
    roots = {str(p).split(".", 1)[0].split("[", 1)[0] for p in diff["path"]}
    patch = int(bool(roots - {"variants", "rollout_weights", "deployments"}))
    touched = set()
    for path in diff["path"]:
        text = str(path)
        if text.startswith("variants["):
            touched.add(text[len("variants[") :].split("]", 1)[0])
        elif text.startswith("rollout_weights."):
            touched.add(text.split(".", 1)[1])
    variants = len(touched)
    deployments = len(set(now["deployments"]) ^ set(then["deployments"]))
    minimal = patch + variants + deployments
    before = client.request_count
    planned = len(plan.requests())
    result = plan.apply(progress=False)
    sent_writes = len(result.requests)
    total = client.request_count - before
    restored = expkit.diff_versions(f.get(fid), old)
    fields = [p for p in restored["path"] if not str(p).startswith(("deployments", "archived"))]
    return {
        "fields_differing": len(diff),
        "minimal_requests": minimal,
        "planned_requests": planned,
        "writes_sent": sent_writes,
        "requests_incl_reads": total,
        "verified": result.verified,
        "fields_left_differing": len(fields),
    }


def _flag(i: int, project: str) -> dict[str, Any]:
    keys = ["control", "treatment"] + (["third"] if i % 3 == 0 else [])
    return {
        "id": f"{project}{i:05d}",
        "projectId": project,
        "key": f"flag-{i:05d}",
        "name": f"Flag {i}",
        "description": "",
        "enabled": True,
        "evaluationMode": "remote",
        "bucketingKey": "amplitude_id",
        "bucketingSalt": f"s{i}",
        "bucketingUnit": "User",
        "variants": [{"key": k, "payload": {"i": i, "k": k}} for k in keys],
        "rolloutPercentage": 50,
        "rolloutWeights": {k: 1 for k in keys},
        "targetSegments": [_segment(j, keys) for j in range(i % 4)],
        "deployments": [],
        "tags": ["team:a"],
        "archived": False,
        "deleted": False,
    }


def compare_figures(n: int) -> dict[str, Any]:
    rng = random.Random(16)
    source = [_flag(i, "1") for i in range(n)]
    target = []
    drifted = 0
    for i, config in enumerate(source):
        other = copy.deepcopy(config)
        other["id"] = f"2{i:05d}"
        other["projectId"] = "2"
        if rng.random() < 0.1:
            drifted += 1
            other["rolloutWeights"]["treatment"] = 3
            other["variants"][0]["payload"] = {"changed": True}
        target.append(other)
    records = source + target
    snap = SimpleNamespace(
        configs=frames.configs(records, kind="flag"),
        variants=frames.variants(records, kind="flag"),
        segments=frames.segments(records, kind="flag"),
        conditions=frames.conditions(records, kind="flag"),
    )
    drift, seconds = timed(lambda: expkit.compare(snap, "1", "2"))
    return {
        "configs_per_project": n,
        "drifted_configs": drifted,
        "rows": len(drift),
        "compare_s": seconds,
    }


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    print(line("restore_10_variants_20_segments", restore_figures()))
    print(line("compare_two_projects", compare_figures(int(PROJECT_SIZE / args.scale))))


if __name__ == "__main__":
    main()
