"""report.write on hand-built orgs: three files, valid escaped HTML, CSV round trip, summary."""

from __future__ import annotations

import base64
import html as html_module
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from expkit import hygiene, report
from expkit.errors import ValidationError
from tests.support import HygieneOrg as Org

# a plot that cannot lay itself out is a bug, not noise
pytestmark = pytest.mark.filterwarnings("error::UserWarning")

EVIL = "<script>alert(1)</script>"
VOID = {"meta", "img", "br", "hr", "link", "input", "col", "area", "base", "source", "wbr"}


class _Checker(HTMLParser):
    """Records start tags, attributes and text; fails on mismatched or unclosed elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Checker:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    return checker


def messy_org() -> Org:
    org = Org()
    org.flag("evil", description=EVIL, name=EVIL, enabled=False, lastModifiedBy=EVIL)
    org.flag(
        "segmented",
        targetSegments=[
            {
                "name": EVIL,
                "percentage": 0,
                "rolloutWeights": {"on": 1},
                "conditions": [{"type": "property", "prop": "x", "op": "is", "values": []}],
            }
        ],
        history=[(300, {}), (2, {"rolloutPercentage": 10}), (1, {})],
    )
    org.flag("ramped", rolloutPercentage=100, history=[(200, {"rolloutPercentage": 5}), (60, {})])
    leaky = org.flag("leaky")
    org.include(leaky, "on", ["ann@example.com", "user_1"])
    return org


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, object]:
    snap = messy_org().snapshot()
    found = hygiene.check(snap)
    out = report.write(found, snap, tmp_path_factory.mktemp("report") / "out")
    return out, found, snap


def test_writes_the_three_files(written) -> None:
    out, _, _ = written
    assert sorted(p.name for p in out.iterdir()) == ["findings.csv", "report.html", "summary.md"]


def test_html_parses_and_lists_every_rule(written) -> None:
    out, found, _ = written
    html = (out / "report.html").read_text(encoding="utf-8")
    checker = parse(html)
    text = " ".join(checker.text)
    for rule_id in hygiene.RULES:
        assert rule_id in text
    for key in found["key"]:
        assert key in text
    # rules with findings link to their section, clean ones say so
    ids = {attrs.get("id") for _, attrs in checker.tags}
    assert {f"rule-{r}" for r in found["rule"]} <= ids
    assert "clean" in text


def test_untrusted_text_is_escaped(written) -> None:
    out, _, _ = written
    html = (out / "report.html").read_text(encoding="utf-8")
    checker = parse(html)
    # the one script is the table's own (DataTables, inlined); no text from the API runs
    scripts = [attrs for t, attrs in checker.tags if t == "script"]
    assert scripts == [{"type": "module"}]
    module = html.split('<script type="module">', 1)[1].split("</script>", 1)[0]
    assert "alert" not in module and EVIL not in module
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # it is still shown, as text: the name, the owner, the description on hover, the segment
    assert EVIL in " ".join(checker.text)
    assert any(attrs.get("title") == EVIL for _, attrs in checker.tags)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "<script>" not in summary
    assert "\\<script\\>" in summary


def test_html_is_self_contained(written) -> None:
    out, found, snap = written
    checker = parse((out / "report.html").read_text(encoding="utf-8"))
    images = [attrs["src"] for tag, attrs in checker.tags if tag == "img"]
    # the rollout history of each config with a finding and versions (worst first, at most
    # six), then the org's change activity
    with_versions = set(found["id"].astype(str)) & set(snap.versions["config_id"].astype(str))
    assert len(images) == min(len(with_versions), 6) + 1
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    for tag, attrs in checker.tags:
        for name in ("href", "src"):
            value = attrs.get(name) or ""
            assert not re.match(r"https?:|//", value), (tag, value)


def test_headline_counts(written) -> None:
    out, found, _ = written
    html = (out / "report.html").read_text(encoding="utf-8")
    counts = found["severity"].value_counts()
    for severity, label in (("error", "Errors"), ("warning", "Warnings"), ("info", "Info")):
        n = int(counts.get(severity, 0))
        assert re.search(rf'<div class="n">{n}</div>\s*<div class="label">{label}</div>', html)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    errors, warnings = _plural(counts["error"], "error"), _plural(counts["warning"], "warning")
    assert f"**{errors} · {warnings} · {counts['info']} info**" in summary


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@pytest.mark.parametrize(
    ("n", "noun", "text"),
    [
        (1, "error", "1 error"),
        (0, "error", "0 errors"),
        (2, "warning", "2 warnings"),
        (1, "info", "1 info"),
        (3, "info", "3 info"),
        (1204, "flag", "1,204 flags"),
    ],
)
def test_counts_are_worded_in_the_singular_for_one(n, noun, text) -> None:
    assert report._counted(n, noun) == text


def test_csv_round_trips(written) -> None:
    out, found, _ = written
    pd.testing.assert_frame_equal(hygiene.read_findings(out / "findings.csv"), found)


def test_summary_lists_actionable_findings_and_counts_info(written) -> None:
    out, found, _ = written
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("# Flag hygiene report: ")
    for rule_id in set(found.loc[found["severity"] != "info", "rule"]):
        assert f"### `{rule_id}`" in summary
    assert "- `recent-change`: 1 config" in summary
    assert "**leaky**" in summary
    assert "ann@example.com" not in summary  # the address is masked in the detail


def test_clean_org_report(tmp_path: Path) -> None:
    org = Org()
    org.flag("fine")
    snap = org.snapshot()
    out = report.write(hygiene.check(snap), snap, tmp_path)
    html = (out / "report.html").read_text(encoding="utf-8")
    parse(html)
    assert "No findings: nothing to clean up." in html
    assert "No findings" in (out / "summary.md").read_text(encoding="utf-8")
    assert hygiene.read_findings(out / "findings.csv").empty


def test_bad_arguments(tmp_path: Path) -> None:
    snap = Org().snapshot()
    with pytest.raises(ValidationError) as err:
        report.write([], snap, tmp_path)
    assert err.value.field == "findings"
    with pytest.raises(ValidationError, match="no column"):
        report.write(pd.DataFrame({"rule": []}), snap, tmp_path)
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    with pytest.raises(ValidationError) as err:
        report.write(hygiene.empty_findings(), snap, afile)
    assert err.value.field == "out_dir"
    with pytest.raises(ValidationError) as err:
        report.write(hygiene.empty_findings(), snap, tmp_path / "o", previous=tmp_path / "nope")
    assert err.value.field == "previous"


def test_disabled_rules_are_marked_not_checked(tmp_path: Path) -> None:
    snap = messy_org().snapshot()
    cfg = hygiene.HygieneConfig(disabled=("undocumented",))
    out = report.write(hygiene.check(snap, config=cfg), snap, tmp_path, config=cfg, plots=False)
    html = (out / "report.html").read_text(encoding="utf-8")
    row = re.search(r"<code>undocumented</code>.*?</tr>", html, flags=re.S)
    assert row and "not checked" in row.group(0)
    assert "<img" not in html


def test_snapshot_without_inclusions_says_what_was_not_checked(tmp_path: Path) -> None:
    snap = messy_org().snapshot()
    snap.with_inclusions = False
    snap.inclusions = snap.inclusions.iloc[0:0]
    out = report.write(hygiene.check(snap), snap, tmp_path, plots=False)
    html = (out / "report.html").read_text(encoding="utf-8")
    for rule_id in ("inclusion-overload", "pii-inclusion"):
        row = re.search(rf"<code>{rule_id}</code>.*?</tr>", html, flags=re.S)
        assert row and "not checked" in row.group(0)
    assert "Inclusions were not fetched" in html


def test_csv_round_trips_api_timestamps_with_milliseconds(tmp_path: Path) -> None:
    # the API's times have milliseconds ("2022-09-09T15:29:47.940Z"): since must keep them
    org = Org()
    org.flag("off", enabled=False, history=[(300, {"enabled": True}), (45.0000123, {})])
    snap = org.snapshot()
    found = hygiene.check(snap)
    assert (found["since"].dt.microsecond != 0).any()
    out = report.write(found, snap, tmp_path, plots=False)
    pd.testing.assert_frame_equal(hygiene.read_findings(out / "findings.csv"), found)
    assert ",2026-10-06T08:59:58.937280Z," in (out / "findings.csv").read_text(encoding="utf-8")
    # whole seconds stay short
    org.flag("off-too", enabled=False, history=[(300, {"enabled": True}), (45, {})])
    snap = org.snapshot()
    out = report.write(hygiene.check(snap), snap, tmp_path, plots=False)
    assert ",2026-10-06T09:00:00Z," in (out / "findings.csv").read_text(encoding="utf-8")


def test_dollar_signs_from_the_api_are_not_mathtext(tmp_path: Path) -> None:
    # matplotlib reads "$...$" as TeX: a key or author like this crashed the chart
    org = Org()
    org.flag(
        "price-$\\frac{$-test",
        history=[(100, {}), (1, {"rolloutPercentage": 10})],
        lastModifiedBy="a$\\b$",
    )
    snap = org.snapshot()
    found = hygiene.check(snap)
    out = report.write(found, snap, tmp_path)
    checker = parse((out / "report.html").read_text(encoding="utf-8"))
    charted = set(found["id"].astype(str)) & set(snap.versions["config_id"].astype(str))
    assert charted and len([t for t, _ in checker.tags if t == "img"]) == len(charted) + 1


def test_summary_makes_markdown_from_the_api_inert(tmp_path: Path) -> None:
    org = Org()
    owner = "*bold* `code` [link](x) | $x^2$ _u_ #h\nnext-line"
    org.flag("k|*y*", deployments=[], lastModifiedBy=owner)
    snap = org.snapshot()
    out = report.write(hygiene.check(snap), snap, tmp_path, plots=False)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    line = next(x for x in summary.splitlines() if x.startswith("- **k"))
    assert line.startswith("- **k\\|\\*y\\***")
    assert "(\\*bold\\* \\`code\\` \\[link\\](x) \\| \\$x^2\\$ \\_u\\_ \\#h next-line)" in line


def test_write_uses_the_thresholds_check_was_given(tmp_path: Path) -> None:
    org = Org()
    org.flag("ramped", rolloutPercentage=100, history=[(200, {"rolloutPercentage": 5}), (40, {})])
    snap = org.snapshot()
    found = hygiene.check(snap, stale_days=45)
    assert "fully-rolled-out" not in set(found["rule"])
    out = report.write(found, snap, tmp_path, previous=snap, plots=False)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<dt>stale_days</dt><dd>45 days" in html
    # the previous snapshot is checked with 45 days too: nothing new, nothing resolved
    assert "**0 new · 0 resolved ·" in (out / "summary.md").read_text(encoding="utf-8")


def test_csv_cells_a_spreadsheet_would_run_are_written_as_text(written, tmp_path: Path) -> None:
    _, found, _ = written
    risky = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tx", "'=quoted"]
    found = found.iloc[: len(risky)].reset_index(drop=True)
    assert len(found) == len(risky)
    found = found.assign(
        key=pd.array(risky, dtype="string"), owner=pd.array(risky[::-1], dtype="string")
    )
    path = tmp_path / "findings.csv"
    hygiene.write_findings(found, path)
    cells = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in ("key", "owner"):
        assert all(cell.startswith("'") for cell in cells[col]), cells[col].tolist()
    assert not cells["rule"].str.startswith("'").any()
    pd.testing.assert_frame_equal(hygiene.read_findings(path), found)


SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


def _report_order(frame: pd.DataFrame) -> list[tuple[int, str, str]]:
    return [
        (SEVERITY_RANK[sev], str(rule), str(key))
        for sev, rule, key in zip(frame["severity"], frame["rule"], frame["key"], strict=True)
    ]


def test_one_order_everywhere_severity_then_rule_then_key(written) -> None:
    out, found, _ = written
    csv = hygiene.read_findings(out / "findings.csv")
    order = _report_order(csv)
    assert order == sorted(order) and len(csv) == len(found)
    html = (out / "report.html").read_text(encoding="utf-8")
    table = html.split('id="findings-table"', 1)[1].split("</table>", 1)[0]
    keys_in_table = re.findall(r'<div class="key"[^>]*>([^<]*)</div>', table)
    assert keys_in_table == [html_module.escape(k) for k in csv["key"].astype(str)]
    summary = (out / "summary.md").read_text(encoding="utf-8")
    headings = re.findall(r"^### `([^`]+)` \((\w+),", summary, flags=re.M)
    ranked = [(SEVERITY_RANK[sev], rule) for rule, sev in headings]
    assert ranked == sorted(ranked) and headings


def test_every_rule_with_findings_has_an_action_in_every_format(written) -> None:
    out, found, _ = written
    html = (out / "report.html").read_text(encoding="utf-8")
    summary = (out / "summary.md").read_text(encoding="utf-8")
    for rule, part in found.groupby("rule"):
        item = html.split(f'id="rule-{rule}"', 1)[1].split("</li>", 1)[0]
        todo = item.split('<div class="todo">', 1)[1]
        assert any(action in html_module.unescape(todo) for action in part["action"]), rule
        section = summary.split(f"`{rule}`", 1)[1].split("\n#", 1)[0]
        assert "→" in section or part["action"].iloc[0].split(":")[0] in section, rule
