"""Render the README's plot gallery from the demo org into docs/gallery/*.png.

    python scripts/make_gallery.py [--fixtures DIR] [--out docs/gallery] [--dpi 100]

Runs offline: ``expkit.connect(fixtures)`` serves the recorded demo org on 127.0.0.1, and
``expkit.snapshot`` fetches it like any org. Picks the configs whose histories show the
most (a ramp, a weight change, a disabled span, several segments) and reports each PNG's size.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd

import expkit
from expkit import plots
from expkit._paths import demo_fixtures

MAX_BYTES = 80_000


def _interest(history: pd.DataFrame, versions: pd.DataFrame) -> pd.DataFrame:
    """Per config: how much its everyone-else rollout moved, and what it went through."""
    everyone = history[history["segment_index"].isna()]
    per_version = everyone.groupby(["config_id", "version"])["effective_pct"].apply(
        lambda s: tuple(s.fillna(-1).round(3))
    )
    moves = per_version.groupby(level="config_id").apply(lambda s: int((s != s.shift()).sum()))
    variants = everyone.groupby("config_id")["variant_key"].nunique()
    disabled = versions.groupby("config_id")["enabled"].apply(lambda s: int((s == False).sum()))  # noqa: E712
    segments = versions.groupby("config_id")["n_segments"].max()
    table = pd.DataFrame(
        {"moves": moves, "variants": variants, "disabled": disabled, "segments": segments}
    ).fillna(0)
    keys = versions.drop_duplicates("config_id").set_index("config_id")[["config_key", "kind"]]
    return table.join(keys)


def _pick(table: pd.DataFrame, *, want_segments: bool) -> str:
    if want_segments:
        candidates = table[(table["segments"] >= 2) & (table["variants"] <= 4)]
    else:
        candidates = table[(table["variants"] >= 2) & (table["variants"] <= 4)]
    if candidates.empty:
        candidates = table
    score = (
        candidates["moves"].clip(upper=10)
        + 4 * (candidates["disabled"] > 0)
        + candidates["variants"]
        + (2 * candidates["segments"].clip(upper=3) if want_segments else 0)
    )
    return str(score.sort_values(ascending=False, kind="stable").index[0])


def _save(fig: plt.Figure, path: Path, dpi: int) -> int:
    fig.savefig(
        path, dpi=dpi, bbox_inches="tight", facecolor="white", pil_kwargs={"optimize": True}
    )
    plt.close(fig)
    return path.stat().st_size


def render(snap: expkit.Snapshot, out: Path, *, dpi: int = 100) -> dict[str, int]:
    """Draw every gallery plot of ``snap`` into ``out``; returns each PNG's size in bytes."""
    versions = snap.versions
    history = expkit.rollout_history(versions)
    table = _interest(history, versions)
    out.mkdir(parents=True, exist_ok=True)
    sizes: dict[str, int] = {}

    rollout_id = _pick(table, want_segments=False)
    fig, ax = plt.subplots(figsize=(9, 3.8), layout="constrained")
    plots.rollout_history(history, config=rollout_id, ax=ax, until=snap.taken_at)
    sizes["rollout_history"] = _save(fig, out / "rollout_history.png", dpi)

    segment_id = _pick(table, want_segments=True)
    fig = plots.rollout_history(history, config=segment_id, by_segment=True, until=snap.taken_at)
    # the multi-panel figure is the biggest: a little less resolution keeps it under 80 kB
    sizes["rollout_by_segment"] = _save(fig, out / "rollout_by_segment.png", round(dpi * 0.9))

    fig, ax = plt.subplots(figsize=(9, 3.4), layout="constrained")
    plots.change_activity(versions, ax=ax)
    sizes["change_activity"] = _save(fig, out / "change_activity.png", dpi)

    from expkit import hygiene

    found = hygiene.check(snap, now=snap.taken_at)
    n_rules = max(1, found["rule"].nunique())
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.36 * n_rules), layout="constrained")
    plots.findings(found, ax=ax)
    sizes["findings"] = _save(fig, out / "findings.png", dpi)

    for name, config_id in (("rollout_history", rollout_id), ("rollout_by_segment", segment_id)):
        key, kind = table.loc[config_id, ["config_key", "kind"]]
        print(f"{name}: {kind} {key} (id {config_id})")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=None, help="fixtures dir (default: demo)")
    parser.add_argument("--out", type=Path, default=Path("docs/gallery"))
    parser.add_argument("--dpi", type=int, default=100)
    args = parser.parse_args(argv)

    client = expkit.connect(args.fixtures or demo_fixtures())
    # the same snapshot the report takes (inclusions too), so the gallery shows its findings
    snap = expkit.snapshot(client, progress=False)
    sizes = render(snap, args.out, dpi=args.dpi)
    for name, size in sizes.items():
        print(f"{args.out / (name + '.png')}: {size / 1000:.1f} kB")
    too_big = [name for name, size in sizes.items() if size > MAX_BYTES]
    if too_big:
        print(f"over {MAX_BYTES // 1000} kB: {', '.join(too_big)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
