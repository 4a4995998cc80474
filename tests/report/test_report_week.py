"""Week over week: two snapshots of the fake demo org with edits between them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import expkit
from expkit import hygiene, report
from expkit._paths import demo_fixtures
from expkit.fake import FakeServer


def _pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["rule"], frame["key"], strict=True))


@pytest.fixture(scope="module")
def two_weeks() -> tuple[object, object, dict[str, str]]:
    """Snapshots before and after: one PII list cleaned, one flag archived, two flags broken."""
    with FakeServer.from_fixtures(demo_fixtures()) as server:
        client = server.client(rate_limit=10_000)
        before = expkit.snapshot(client, progress=False)
        found = hygiene.check(before)
        configs = before.configs.set_index("key")
        flagged = set(found["id"])
        healthy = [
            key
            for key, row in configs.iterrows()
            if row["kind"] == "flag"
            and row["enabled"]
            and not row["archived"]
            and row["deployments"]
            and row["id"] not in flagged
        ][:2]
        leaky = configs.loc["support-priority-queue", "id"]
        users = client.flags.users(leaky, "on")
        client.flags.remove_users(leaky, "on", [u for u in users if "@" in u])
        client.flags.edit(configs.loc["tmp-test-flag", "id"], archive=True)
        broken_deploy, broken_doc = healthy
        for dep in configs.loc[broken_deploy, "deployments"]:
            client.flags.remove_deployment(configs.loc[broken_deploy, "id"], dep)
        client.flags.edit(configs.loc[broken_doc, "id"], description="")
        after = expkit.snapshot(client, progress=False)
    return before, after, {"no-deployment": broken_deploy, "undocumented": broken_doc}


def test_new_and_resolved_lists(two_weeks) -> None:
    before, after, broken = two_weeks
    diff = report.compare(hygiene.check(after), hygiene.check(before))
    assert _pairs(diff.new) == set(broken.items())
    assert _pairs(diff.resolved) == {
        ("pii-inclusion", "support-priority-queue"),
        ("undocumented", "tmp-test-flag"),
    }
    # everything else is still open, and recent-change (calendar-driven) is not compared
    still = _pairs(diff.still_open)
    assert ("fully-rolled-out", "express-pay-button") in still
    assert not {rule for rule, _ in still | _pairs(diff.new)} & {"recent-change"}
    assert len(diff.still_open) == len(hygiene.check(before)) - 2 - int(
        (hygiene.check(before)["rule"] == "recent-change").sum()
    )


def test_report_week_over_week_from_a_saved_snapshot(two_weeks, tmp_path: Path) -> None:
    before, after, broken = two_weeks
    saved = before.save(tmp_path / "last-week")
    out = report.write(
        hygiene.check(after), after, tmp_path / "report", previous=saved, plots=False
    )
    html = (out / "report.html").read_text(encoding="utf-8")
    section = html[html.index('id="week-over-week"') : html.index('id="findings"')]
    new_part, resolved_part = section.split("Resolved", 1)
    for key in broken.values():
        assert key in new_part and key not in resolved_part
    assert "support-priority-queue" in resolved_part and "tmp-test-flag" in resolved_part
    assert before.taken_at.strftime("%Y-%m-%d %H:%M UTC") in section
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "**2 new · 2 resolved ·" in summary


def test_previous_report_directory_works_too(two_weeks, tmp_path: Path) -> None:
    before, after, broken = two_weeks
    last = report.write(hygiene.check(before), before, tmp_path / "last", plots=False)
    out = report.write(hygiene.check(after), after, tmp_path / "now", previous=last, plots=False)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "**2 new · 2 resolved ·" in summary
    for key in broken.values():
        assert f"**{key}**" in summary
