"""Lifecycle benchmark: archiving 1,000 configs of a synthetic org at 50 ms latency.

``LifecycleEdit.apply()`` re-reads the org (a conflict check per config), sends one PATCH per
config (a few in flight at once, paced by the client's 100 requests/s limit) and re-reads to
verify. The floor is the requests it sent at the rate limit: ``requests / 100`` seconds; the
target is at most 1.2x the floor. ``undo()`` is measured the same way.

Full scale is 2,000 flags + 500 experiments, 1,000 archived; ``--scale F`` shrinks all three.
Prints ``lifecycle: key=value ...``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RATE, line, parser, serve, sizes, timed

from expkit.edits import LifecycleEdit

TARGET = 1000


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=16, help="requests in flight at once")
    args = p.parse_args()
    n_target = max(1, round(TARGET / args.scale))
    # the audit log goes to a temporary file, not the user's ~/.expkit
    audit = Path(tempfile.mkdtemp(prefix="expkit-bench-")) / "audit.jsonl"
    os.environ["EXPKIT_AUDIT_LOG"] = str(audit)
    with serve(
        **sizes(args.scale), versions_per_config=2, seed=args.seed, latency=args.latency
    ) as fake:
        client = fake.client(rate_limit=RATE)
        flags = [f for f in client.flags.list() if not f.get("archived")]
        probe = LifecycleEdit.load(client, [f["id"] for f in flags], kind="flags")
        ready = probe.preview()
        ids = list(ready.loc[ready["status"] == "ready", "id"][:n_target])
        plan, load_s = timed(
            lambda: LifecycleEdit.load(client, ids, kind="flags", workers=args.workers)
        )
        before = fake.request_count()
        result, apply_s = timed(lambda: plan.apply(progress=False))
        apply_requests = fake.request_count() - before
        before = fake.request_count()
        undone, undo_s = timed(lambda: plan.undo(progress=False))
        undo_requests = fake.request_count() - before

    apply_floor = apply_requests / RATE
    undo_floor = undo_requests / RATE
    print(
        line(
            "lifecycle",
            {
                "configs": len(ids),
                "applied": len(result.applied),
                "undone": len(undone.applied),
                "latency_ms": round(args.latency * 1000),
                "workers": args.workers,
                "planned_requests": plan.n_requests,
                "load_s": load_s,
                "apply_requests": apply_requests,
                "apply_s": apply_s,
                "apply_floor_s": apply_floor,
                "apply_ratio": apply_s / apply_floor,
                "undo_requests": undo_requests,
                "undo_s": undo_s,
                "undo_floor_s": undo_floor,
                "undo_ratio": undo_s / undo_floor,
                "audit_lines": sum(1 for _ in audit.open()),
            },
        )
    )


if __name__ == "__main__":
    main()
