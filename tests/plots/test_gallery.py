"""scripts/make_gallery.py renders every gallery PNG the README shows, each small."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("make_gallery", ROOT / "scripts/make_gallery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_gallery_script_renders_each_plot_the_readme_shows(tmp_path, capsys):
    script = _script()
    assert script.main(["--out", str(tmp_path)]) == 0
    made = {p.name for p in tmp_path.glob("*.png")}
    assert made == {
        "rollout_history.png",
        "rollout_by_segment.png",
        "change_activity.png",
        "findings.png",
    }
    assert all((tmp_path / name).stat().st_size <= script.MAX_BYTES for name in made)
    shown = set(re.findall(r"\]\(docs/gallery/([\w.-]+\.png)\)", (ROOT / "README.md").read_text()))
    assert shown == made
    assert {p.name for p in (ROOT / "docs/gallery").glob("*.png")} == made
    printed = capsys.readouterr().out
    # the README's alt texts name the configs the script picks
    readme = (ROOT / "README.md").read_text()
    for name in ("rollout_history", "rollout_by_segment"):
        key = re.search(rf"^{name}: \w+ (\S+) ", printed, re.M).group(1)
        assert re.search(
            rf"!\[[^\]]*\b{re.escape(key)}\b[^\]]*\]\(docs/gallery/{name}\.png\)", readme
        )
