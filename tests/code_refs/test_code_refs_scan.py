"""expkit.code_refs: what counts as a reference, which files are read, and bad input."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import expkit
from expkit import code_refs
from expkit._code_refs import COLUMNS, DEFAULT_EXCLUDES, case_aliases

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def write(root: Path, rel: str, text: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def found(df: pd.DataFrame) -> list[tuple[str, str, int, int]]:
    return [
        (r.key, r.path.rsplit("/", 1)[-1], r.line, r.column) for r in df.itertuples(index=False)
    ]


def scan(paths, keys, **kw) -> pd.DataFrame:
    return code_refs(paths, keys, progress=False, **kw)


def test_exported_lazily():
    assert expkit.code_refs is code_refs
    assert "code_refs" in expkit.__all__


# ------------------------------------------------------------------ what counts


def test_each_quote_character_delimits_a_key(tmp_path):
    write(
        tmp_path,
        "a.ts",
        "const a = v(\"wallet-v2\");\nconst b = v('wallet-v2');\nconst c = v(`wallet-v2`);\n",
    )
    df = scan(tmp_path, ["wallet-v2"])
    assert found(df) == [
        ("wallet-v2", "a.ts", 1, 14),
        ("wallet-v2", "a.ts", 2, 14),
        ("wallet-v2", "a.ts", 3, 14),
    ]
    assert df["text"].tolist()[1] == "const b = v('wallet-v2');"
    assert df["alias"].isna().all()
    assert df["kind"].isna().all()


def test_substrings_and_unquoted_mentions_do_not_count(tmp_path):
    write(
        tmp_path,
        "a.py",
        "\n".join(
            [
                'x = "wallet-v2-legacy"',  # longer name with the key as prefix
                'y = "old-wallet-v2"',  # ... as suffix
                "z = wallet-v2",  # no quotes at all
                "# the wallet-v2 flag",  # prose
                '"wallet-v2 "',  # a space inside the quotes
                "'wallet_v2'",  # another spelling, no aliases asked for
                'ok = "wallet-v2"',
            ]
        )
        + "\n",
    )
    assert found(scan(tmp_path, ["wallet-v2"])) == [("wallet-v2", "a.py", 7, 7)]


def test_adjacent_quoted_strings_and_several_keys_on_a_line(tmp_path):
    write(tmp_path, "a.js", "f('a-flag','b-flag') + \"a-flag\"+'c'\n")
    df = scan(tmp_path, ["a-flag", "b-flag", "c"])
    assert found(df) == [
        ("a-flag", "a.js", 1, 4),
        ("b-flag", "a.js", 1, 13),
        ("a-flag", "a.js", 1, 25),
        ("c", "a.js", 1, 34),
    ]


def test_crlf_lines_and_columns_count_characters_not_bytes(tmp_path):
    write(tmp_path, "a.kt", '// héllo\r\nval x = "ünïcode" + "k1"\r\n'.encode())
    df = scan(tmp_path, ["k1"])
    assert found(df) == [("k1", "a.kt", 2, 22)]
    assert df["text"].iloc[0] == 'val x = "ünïcode" + "k1"'


def test_long_lines_are_cut_to_a_window_around_the_key(tmp_path):
    write(tmp_path, "big.js", "x" * 5000 + " 'k1' " + "y" * 5000 + "\n")
    df = scan(tmp_path, ["k1"])
    text = df["text"].iloc[0]
    assert "'k1'" in text and len(text) <= 402 and text.startswith("…") and text.endswith("…")
    assert df["column"].iloc[0] == 5003


# ------------------------------------------------------------------ result shape


def test_schema_and_order(tmp_path):
    write(tmp_path, "b.py", "'k2'\n'k1'\n")
    write(tmp_path, "a.py", "x = 'k1'\n")
    df = scan(tmp_path, ["k1", "k2"])
    assert list(df.columns) == list(COLUMNS)
    assert {c: str(t) for c, t in df.dtypes.items()} == COLUMNS
    assert [
        (p.rsplit("/", 1)[-1], line) for p, line in zip(df["path"], df["line"], strict=True)
    ] == [
        ("a.py", 1),
        ("b.py", 1),
        ("b.py", 2),
    ]
    assert df["path"].iloc[0] == (tmp_path / "a.py").as_posix()


@pytest.mark.parametrize("keys", [[], ["nowhere-to-be-found"]])
def test_empty_result_has_the_same_columns_and_dtypes(tmp_path, keys):
    write(tmp_path, "a.py", "x = 'k1'\n")
    df = scan(tmp_path, keys)
    assert df.empty
    assert list(df.columns) == list(COLUMNS)
    assert {c: str(t) for c, t in df.dtypes.items()} == COLUMNS
    assert df.attrs["noisy_keys"] == {}


def test_attrs_count_files_and_bytes(tmp_path):
    write(tmp_path, "a.py", "x = 'k1'\n")
    write(tmp_path, "b.py", "nothing\n")
    df = scan(tmp_path, ["k1"])
    assert df.attrs["files"] == 2
    assert df.attrs["bytes"] == len("x = 'k1'\n") + len("nothing\n")
    assert df.attrs["skipped"] == 0 and df.attrs["skipped_files"] == []
    assert df.attrs["binary"] == 0


def test_relative_paths_are_reported_as_given(tmp_path, monkeypatch):
    write(tmp_path, "src/a.py", "'k1'\n")
    monkeypatch.chdir(tmp_path)
    assert scan(".", ["k1"])["path"].tolist() == ["src/a.py"]
    assert scan("src/", ["k1"])["path"].tolist() == ["src/a.py"]
    assert scan(Path("src"), ["k1"])["path"].tolist() == ["src/a.py"]


def test_a_single_file_and_overlapping_paths(tmp_path):
    f = write(tmp_path, "src/app/a.py", "x = 'k1'\n")
    assert found(scan(f, ["k1"])) == [("k1", "a.py", 1, 6)]
    assert scan(f, ["k1"]).attrs["listing"] == {f.as_posix(): "file"}
    # the same file reached through two given paths is read once
    df = scan([tmp_path / "src", tmp_path / "src" / "app", str(f)], ["k1"])
    assert len(df) == 1 and df.attrs["files"] == 1


def test_noisy_keys_are_noted(tmp_path):
    write(tmp_path, "a.py", "'on'\n" * 5 + "'k1'\n")
    df = scan(tmp_path, ["on", "k1"], noisy=3)
    assert df.attrs["noisy_keys"] == {"on": 5}
    assert len(df) == 6


# ------------------------------------------------------------------ keys input


def _snapshot(configs: pd.DataFrame) -> expkit.Snapshot:
    names = ["variants", "segments", "conditions", "versions", "inclusions", "deployments"]
    others = {name: expkit.frames.empty(name) for name in [*names, "groups"]}
    return expkit.Snapshot(configs=configs, taken_at=pd.Timestamp("2026-11-20", tz="UTC"), **others)


def test_snapshot_keys_fill_kind(tmp_path):
    configs = expkit.frames.configs(
        [
            {"id": "1", "key": "wallet-v2", "variants": []},
            {"id": "2", "key": "pricing-exp", "state": "running", "variants": []},
        ],
        kind={"1": "flag", "2": "experiment"},
    )
    snap = _snapshot(configs)
    write(tmp_path, "a.py", "a = 'wallet-v2'\nb = 'pricing-exp'\nc = 'other'\n")
    df = scan(tmp_path, snap)
    assert df[["key", "kind"]].values.tolist() == [
        ["wallet-v2", "flag"],
        ["pricing-exp", "experiment"],
    ]
    # the configs frame itself works too
    assert scan(tmp_path, snap.configs)["kind"].tolist() == ["flag", "experiment"]


def test_mapping_keys_give_kind_and_a_key_of_two_kinds_gives_two_rows(tmp_path):
    write(tmp_path, "a.py", "a = 'k1'\n")
    df = scan(tmp_path, {"k1": "flag", "k2": "experiment"})
    assert df["kind"].tolist() == ["flag"]
    frame = pd.DataFrame({"key": ["k1", "k1"], "kind": ["flag", "experiment"]})
    assert scan(tmp_path, frame)["kind"].tolist() == ["flag", "experiment"]


def test_keys_may_be_any_iterable(tmp_path):
    write(tmp_path, "a.py", "a = 'k1'\n")
    assert len(scan(tmp_path, (k for k in ["k1"]))) == 1
    assert len(scan(tmp_path, {"k1"})) == 1
    assert len(scan(tmp_path, pd.Series(["k1"]))) == 1


@pytest.mark.parametrize(
    ("keys", "match"),
    [
        ("wallet-v2", "iterable of config keys"),
        (42, "iterable of config keys"),
        (["ok", 3], "non-empty string"),
        ([""], "non-empty string"),
        (["it's"], "can never stand between quotes"),
        (["two\nlines"], "can never stand between quotes"),
        (pd.DataFrame({"name": ["x"]}), "without a 'key' column"),
    ],
)
def test_bad_keys(tmp_path, keys, match):
    with pytest.raises(expkit.ValidationError, match=match) as info:
        scan(tmp_path, keys)
    assert info.value.field == "keys"


# ------------------------------------------------------------------ aliases


def test_case_aliases():
    assert case_aliases("search-ranking-v2") == [
        "searchRankingV2",
        "search_ranking_v2",
        "SEARCH_RANKING_V2",
    ]
    assert case_aliases("checkoutOnePage") == [
        "checkout_one_page",
        "CHECKOUT_ONE_PAGE",
        "checkout-one-page",
    ]
    assert case_aliases("3ds-challenge") == ["3dsChallenge", "3ds_challenge", "3DS_CHALLENGE"]


def test_aliases_cases_and_literals(tmp_path):
    write(
        tmp_path,
        "a.kt",
        'a("walletV2")\nb("WALLET_V2")\nc("wallet_v2")\nd("WalletTwo")\ne("wallet-v2")\n',
    )
    assert found(scan(tmp_path, ["wallet-v2"])) == [("wallet-v2", "a.kt", 5, 4)]
    df = scan(tmp_path, ["wallet-v2"], aliases="cases")
    assert df["alias"].tolist() == ["walletV2", "WALLET_V2", "wallet_v2", pd.NA]
    assert df["line"].tolist() == [1, 2, 3, 5]
    assert (df["key"] == "wallet-v2").all()
    assert scan(tmp_path, ["wallet-v2"], aliases=True)["alias"].tolist()[:3] == [
        "walletV2",
        "WALLET_V2",
        "wallet_v2",
    ]
    literal = scan(tmp_path, ["wallet-v2"], aliases={"wallet-v2": ["WalletTwo"]})
    assert literal["alias"].dropna().tolist() == ["WalletTwo"]
    assert literal["line"].tolist() == [4, 5]
    both = scan(tmp_path, ["wallet-v2"], aliases=["cases", {"wallet-v2": "WalletTwo"}])
    assert both["line"].tolist() == [1, 2, 3, 4, 5]


def test_an_alias_never_hides_a_real_key(tmp_path):
    # "a-b" in camelCase is "aB", which is also a key of its own
    write(tmp_path, "a.py", "'aB'\n")
    df = scan(tmp_path, ["a-b", "aB"], aliases="cases")
    assert df[["key", "alias"]].astype(object).values.tolist() == [["aB", pd.NA]]


@pytest.mark.parametrize(
    ("aliases", "match"),
    [
        ("camel", "not understood"),
        ({"unknown-key": ["x"]}, "not among the keys"),
        ({"k1": 3}, "string or a list of strings"),
        ({"k1": ["bad'quote"]}, "can never stand between quotes"),
    ],
)
def test_bad_aliases(tmp_path, aliases, match):
    with pytest.raises(expkit.ValidationError, match=match) as info:
        scan(tmp_path, ["k1"], aliases=aliases)
    assert info.value.field == "aliases"


# ------------------------------------------------------------------ which files


def test_default_excludes_skip_vendored_generated_and_minified(tmp_path):
    for rel in [
        "node_modules/x/index.js",
        ".venv/lib/a.py",
        "venv/lib/a.py",
        "dist/a.js",
        "build/a.js",
        "__pycache__/a.py",
        "web/app.min.js",
        "src/nested/node_modules/y.js",
    ]:
        write(tmp_path, rel, "'k1'\n")
    write(tmp_path, "src/app.js", "'k1'\n")
    write(tmp_path, "src/builder.js", "'k1'\n")  # a name that only starts like "build"
    df = scan(tmp_path, ["k1"])
    rels = sorted(p[len(tmp_path.as_posix()) + 1 :] for p in df["path"])
    assert rels == ["src/app.js", "src/builder.js"]
    assert "node_modules/" in DEFAULT_EXCLUDES


def test_exclude_globs(tmp_path):
    for rel in ["src/a.ts", "src/a.test.ts", "src/gen/b.ts", "other/gen/c.ts", "docs/x.md"]:
        write(tmp_path, rel, "'k1'\n")

    def rels(**kw):
        df = scan(tmp_path, ["k1"], **kw)
        return sorted(p[len(tmp_path.as_posix()) + 1 :] for p in df["path"])

    assert rels(exclude="*.test.ts") == ["docs/x.md", "other/gen/c.ts", "src/a.ts", "src/gen/b.ts"]
    assert rels(exclude=["gen/"]) == ["docs/x.md", "src/a.test.ts", "src/a.ts"]
    assert rels(exclude=["src/gen"]) == ["docs/x.md", "other/gen/c.ts", "src/a.test.ts", "src/a.ts"]
    assert rels(exclude=["**/gen/*.ts", "*.md"]) == ["src/a.test.ts", "src/a.ts"]


def test_bad_exclude(tmp_path):
    with pytest.raises(expkit.ValidationError, match="exclude") as info:
        scan(tmp_path, ["k1"], exclude=[3])
    assert info.value.field == "exclude"


def test_binary_files_are_skipped_and_counted(tmp_path):
    write(tmp_path, "img.png", b"\x89PNG\r\n\x1a\n\x00\x00'k1'\x00")
    write(tmp_path, "a.py", "'k1'\n")
    df = scan(tmp_path, ["k1"])
    assert [p.rsplit("/", 1)[-1] for p in df["path"]] == ["a.py"]
    assert df.attrs["binary"] == 1 and df.attrs["files"] == 1


def test_non_utf8_files_are_decoded_with_replacement(tmp_path):
    write(tmp_path, "latin1.py", "# caf\xe9\nx = 'k1'  # na\xefve\n".encode("latin-1"))
    df = scan(tmp_path, ["k1"])
    assert found(df) == [("k1", "latin1.py", 2, 6)]
    assert df["text"].iloc[0] == "x = 'k1'  # na\ufffdve"


def test_a_utf8_key_in_a_utf8_file(tmp_path):
    write(tmp_path, "a.py", "x = 'é-flag'\n")
    assert found(scan(tmp_path, ["é-flag"])) == [("é-flag", "a.py", 1, 6)]


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_symlink_loops_are_safe(tmp_path):
    write(tmp_path, "src/a.py", "'k1'\n")
    os.symlink(tmp_path / "src", tmp_path / "src" / "loop")  # a directory loop
    os.symlink(tmp_path / "self", tmp_path / "self")  # a link to itself
    os.symlink(tmp_path / "missing", tmp_path / "dangling")
    df = scan(tmp_path, ["k1"])
    assert found(df) == [("k1", "a.py", 1, 2)]
    assert df.attrs["skipped_files"] == [(tmp_path / "self").as_posix()]
    assert df.attrs["skipped"] == 1


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root reads files without permission"
)
def test_unreadable_files_inside_a_tree_are_skipped_and_counted(tmp_path):
    write(tmp_path, "a.py", "'k1'\n")
    locked = write(tmp_path, "locked.py", "'k1'\n")
    locked.chmod(0)
    try:
        df = scan(tmp_path, ["k1"])
    finally:
        locked.chmod(0o644)
    assert len(df) == 1
    assert df.attrs["skipped"] == 1 and df.attrs["skipped_files"] == [locked.as_posix()]


def test_unreadable_files_are_counted_via_deterministic_fault(tmp_path, monkeypatch):
    """The same as above, where root could read anything: opening one file fails."""
    write(tmp_path, "a.py", "'k1'\n")
    locked = write(tmp_path, "locked.py", "'k1'\n")
    real_open = os.open

    def failing_open(file, *args, **kwargs):
        if os.fspath(file) == os.fspath(locked):
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", failing_open)
    df = scan(tmp_path, ["k1"])
    assert [p.rsplit("/", 1)[-1] for p in df["path"]] == ["a.py"]
    assert df.attrs["skipped"] == 1 and df.attrs["skipped_files"] == [locked.as_posix()]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_a_fifo_is_not_opened(tmp_path):
    write(tmp_path, "a.py", "'k1'\n")
    os.mkfifo(tmp_path / "pipe")
    assert len(scan(tmp_path, ["k1"])) == 1


# ------------------------------------------------------------------ git


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@needs_git
def test_gitignore_is_honoured_in_a_git_work_tree(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    write(repo, ".gitignore", "generated/\n*.log\n")
    write(repo, "src/app.py", "'k1'\n")
    write(repo, "src/new.py", "'k1'\n")  # untracked, not ignored: scanned
    write(repo, "generated/out.py", "'k1'\n")
    write(repo, "debug.log", "'k1'\n")
    write(repo, "sub/.gitignore", "local.py\n")
    write(repo, "sub/local.py", "'k1'\n")
    git(repo, "add", "src/app.py", ".gitignore")
    df = scan(repo, ["k1"])
    rels = sorted(p[len(repo.as_posix()) + 1 :] for p in df["path"])
    assert rels == ["src/app.py", "src/new.py"]
    assert df.attrs["listing"] == {repo.as_posix(): "git"}
    # a subdirectory of the work tree: paths stay under the given path
    sub = scan(repo / "src", ["k1"])
    assert sorted(sub["path"]) == [
        (repo / "src/app.py").as_posix(),
        (repo / "src/new.py").as_posix(),
    ]
    # default excludes apply to what git lists, too
    write(repo, "node_modules/x.js", "'k1'\n")
    git(repo, "add", "-f", "node_modules/x.js")
    assert len(scan(repo, ["k1"])) == 2


@needs_git
def test_a_tracked_file_deleted_from_disk_is_not_an_error(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    write(repo, "a.py", "'k1'\n")
    gone = write(repo, "gone.py", "'k1'\n")
    git(repo, "add", "-A")
    gone.unlink()
    df = scan(repo, ["k1"])
    assert len(df) == 1 and df.attrs["skipped"] == 0


def test_without_git_the_tree_is_walked(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    write(tmp_path, "a.py", "'k1'\n")
    df = scan(tmp_path, ["k1"])
    assert len(df) == 1 and df.attrs["listing"] == {tmp_path.as_posix(): "walk"}


# ------------------------------------------------------------------ bad paths


def test_a_missing_path_is_named(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(expkit.ValidationError, match="does not exist") as info:
        scan([tmp_path, missing], ["k1"])
    assert info.value.field == "paths" and info.value.value == str(missing)
    assert str(missing) in str(info.value)


def test_an_unreadable_path_is_named(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == locked else real_access(p, mode)
    )
    with pytest.raises(expkit.ValidationError, match="not readable") as info:
        scan(locked, ["k1"])
    assert info.value.value == str(locked)


@pytest.mark.parametrize("paths", [[], 3, [3]])
def test_bad_paths(paths):
    with pytest.raises(expkit.ValidationError) as info:
        scan(paths, ["k1"])
    assert info.value.field == "paths"


def test_bad_noisy(tmp_path):
    with pytest.raises(expkit.ValidationError) as info:
        scan(tmp_path, ["k1"], noisy=0)
    assert info.value.field == "noisy"


def test_progress_bar_counts_files(tmp_path, capsys):
    write(tmp_path, "a.py", "'k1'\n")
    write(tmp_path, "b.py", "'k1'\n")
    code_refs(tmp_path, ["k1"], progress=True)
    err = capsys.readouterr().err
    assert "code refs" in err and "/2" in err and "files" in err
    code_refs(tmp_path, ["k1"], progress=False)
    assert capsys.readouterr().err == ""


@needs_git
def test_an_untracked_nested_repository_is_entered_with_its_own_gitignore(tmp_path):
    outer = tmp_path / "outer"
    inner = outer / "vendor-checkout"
    inner.mkdir(parents=True)
    git(outer, "init", "-q")
    git(inner, "init", "-q")
    write(outer, "a.py", "'k1'\n")
    write(inner, ".gitignore", "ignored.py\n")
    write(inner, "b.py", "'k1'\n")
    write(inner, "ignored.py", "'k1'\n")
    df = scan(outer, ["k1"])
    rels = sorted(p[len(outer.as_posix()) + 1 :] for p in df["path"])
    assert rels == ["a.py", "vendor-checkout/b.py"]
