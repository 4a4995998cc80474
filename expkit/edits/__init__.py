"""Safe edits of flags and experiments: plans you preview, apply, verify and undo.

A plan is loaded from the server through a client, records the intended change (validated
as it is typed), shows it (``preview()``, ``requests()``, ``changes()``), and applies it
with a conflict check first, a rollback if a step fails part-way, a verifying re-read last,
and one line per apply or undo in an audit log. A step whose outcome is unknown (a 5xx
after the server applied it, a dropped connection, a timeout, Ctrl-C) is settled by
re-reading the server; the result gives each step's status (applied / not applied /
rolled back / unknown)::

    plan = RolloutEdit.load(client, "123456")
    plan.set_weights({"control": 1, "treatment": 3})
    plan.preview()          # before/after weight, share and effective % per variant
    result = plan.apply()   # or apply(dry_run=True)
    plan.undo()
"""

from __future__ import annotations

from expkit.edits._core import (
    STATUSES,
    ApplyResult,
    ConflictError,
    Effect,
    PartialApplyError,
    Request,
    StepResult,
    VerificationError,
)
from expkit.edits._inclusions_edit import MAX_INCLUSIONS, InclusionsEdit, parse_ids
from expkit.edits._lifecycle_edit import (
    ACTIONS,
    MAX_PLAN_REQUESTS,
    ConfigResult,
    LifecycleEdit,
    LifecycleResult,
)
from expkit.edits._payload_edit import PayloadEdit, parse_payload
from expkit.edits._rollout_edit import RolloutEdit
from expkit.edits._sync import PromoteEdit, RestoreEdit

__all__ = [
    "ACTIONS",
    "MAX_INCLUSIONS",
    "MAX_PLAN_REQUESTS",
    "STATUSES",
    "ApplyResult",
    "ConfigResult",
    "ConflictError",
    "Effect",
    "InclusionsEdit",
    "LifecycleEdit",
    "LifecycleResult",
    "PartialApplyError",
    "PayloadEdit",
    "PromoteEdit",
    "Request",
    "RestoreEdit",
    "RolloutEdit",
    "StepResult",
    "VerificationError",
    "parse_ids",
    "parse_payload",
]
