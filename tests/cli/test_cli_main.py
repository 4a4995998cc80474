"""The ``expkit`` command as a whole: help, version, exit codes, and the floor it stands on."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import expkit
from expkit.cli import EXIT_API, EXIT_BAD_INPUT, EXIT_BUG, EXIT_FINDINGS, EXIT_OK, main
from expkit.cli._errors import InputError, exit_code, one_line
from expkit.errors import (
    ApiError,
    AuthenticationError,
    ExpkitError,
    NotFoundError,
    TransportError,
    ValidationError,
)

COMMANDS = ("report", "snapshot", "refs", "serve", "record")
PACKAGE = Path(expkit.__file__).resolve().parent


def test_the_exit_codes_are_the_documented_ones():
    assert (EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_API) == (0, 1, 2, 3)
    assert EXIT_BUG not in (0, 1, 2, 3)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ValidationError("bad", field="x"), 2),
        (InputError("--port 1 is bad."), 2),
        (ExpkitError("a corrupt snapshot"), 2),
        (FileNotFoundError(2, "No such file or directory", "x.toml"), 2),
        (PermissionError(13, "Permission denied", "/root/out"), 2),
        (ApiError(500, "GET", "https://x/api/1/flags"), 3),
        (AuthenticationError(401, "GET", "https://x/api/1/flags"), 3),
        (NotFoundError(404, "GET", "https://x/api/1/flags/1"), 3),
        (TransportError("timed out"), 3),
        (RuntimeError("oops"), EXIT_BUG),
        (KeyError("x"), EXIT_BUG),
    ],
)
def test_each_kind_of_failure_has_its_code(exc, code):
    assert exit_code(exc) == code


def test_messages_are_one_sentence_on_one_line():
    err = ValidationError("config file 'x' does not exist", field="config", allowed="a file")
    assert one_line(err) == "config file 'x' does not exist. Allowed: a file."
    assert one_line(ExpkitError("two\n  lines")) == "two lines."
    assert one_line(FileNotFoundError(2, "No such file or directory", "x.toml")) == (
        "x.toml: No such file or directory."
    )
    assert one_line(ExpkitError("already a question?")) == "already a question?"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_description_defaults_and_the_exit_codes(command, capsys):
    assert main([command, "--help"]) == 0
    text = capsys.readouterr().out
    usage, description = text.split("\n\n")[:2]
    assert usage.startswith(f"usage: expkit {command} ")
    assert description and "\n" not in description.strip()  # one line, a sentence
    assert description.rstrip().endswith(".")
    assert "--debug" in text and "(default: " in text
    assert "exit codes:" in text and "  0   done" in text and "  2   bad input" in text
    assert ("  1   findings at or above --fail-on" in text) == (command == "report")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_flag_prints_that_commands_usage(command, capsys, tmp_path):
    required = ["--out", str(tmp_path / "x")] if command in ("snapshot", "record") else []
    if command == "refs":
        required = [str(tmp_path)]
    assert main([command, *required, "--bogus"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: expkit {command} ")
    assert err.splitlines()[-1] == f"expkit {command}: error: unrecognized arguments: --bogus."


def test_no_command_prints_help_and_version_comes_from_the_version_module(capsys):
    from expkit._version import __version__

    assert main([]) == 0
    assert "COMMAND" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"expkit {__version__}"
    assert expkit.__version__ == __version__
    assert main(["nope"]) == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_python_dash_m_expkit_and_the_exit_code_reach_the_shell(tmp_path):
    ran = subprocess.run(
        [sys.executable, "-m", "expkit", "serve", "--port", "99999"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert ran.returncode == 2 and ran.stdout == ""
    assert ran.stderr.splitlines() == [
        "expkit serve: error: --port 99999 is not a port; use 1–65535, or 0 for any free port."
    ]


def test_help_does_not_load_the_heavy_libraries():
    code = (
        "import sys; from expkit.cli import main; main(['report', '--help']); "
        "print([m for m in ('pandas', 'matplotlib', 'pyarrow') if m in sys.modules])"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stdout.strip().splitlines()[-1] == "[]"


def _imports_and_prints(path: Path) -> tuple[set[str], int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    prints = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            prints -= sum(
                isinstance(n, ast.Call) and getattr(n.func, "id", None) == "print"
                for n in ast.walk(node)
            )
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
            prints += 1
    return imported, prints


# connect()'s one line (live, or which fake) is its documented contract: it says which org
_SPEAKS = {"_connect.py"}


def test_library_modules_neither_parse_arguments_nor_print():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "cli":
            continue
        imported, prints = _imports_and_prints(path)
        if "argparse" in imported:
            offenders.append(f"{relative} imports argparse")
        if prints and str(relative) not in _SPEAKS:
            offenders.append(f"{relative} prints")
    assert offenders == []


def test_no_library_module_imports_the_cli_or_the_package_root():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "cli":
            continue
        if relative.name in ("__init__.py", "__main__.py"):
            continue
        imported, _ = _imports_and_prints(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        from_root = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "expkit"
            for alias in node.names
        }
        if any(m == "expkit.cli" or m.startswith("expkit.cli.") for m in imported):
            offenders.append(f"{relative} imports the cli")
        if "__version__" in from_root:
            offenders.append(f"{relative} imports __version__ from the package root")
    assert offenders == []


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch, tmp_path, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(expkit, "connect", interrupted)
    assert main(["snapshot", "--out", str(tmp_path / "s")]) == 130
    assert capsys.readouterr().err == "expkit snapshot: interrupted.\n"
