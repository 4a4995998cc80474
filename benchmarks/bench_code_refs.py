"""How fast ``expkit.code_refs`` scans a large source tree, next to ``git grep`` (and ripgrep).

Generates (in a temp dir) a git work tree of 20,000 files / 200 MB of code-like text in two
halves, with 2,500 config keys sprinkled in as quoted strings (and as decoys: longer names
that contain a key, which must not count). Then, in the same run, times

- ``code_refs(tree, keys)`` against ``git grep -F -f keys.txt``, GNU ``grep -rF -f keys.txt``
  and ``rg -F -f keys.txt`` (those two when installed), warm cache, best of ``--repeat`` runs
  each (fewer when one run of a tool takes long);
- the same with 250 keys instead of 2,500 (how it scales with keys);
- the same on one half of the tree (how it scales with bytes).

Prints ``name=value`` lines: seconds, MB/s and ratios (code_refs / git grep; the target is
<= 2). ``--small`` runs a tenth of the size for a quick look.

    python benchmarks/bench_code_refs.py [--small] [--repeat 3] [--seed 0] [--dir DIR]

git grep has no multi-pattern matcher: with N fixed strings it tries each one on each line,
so its time grows with the number of keys; GNU grep and ripgrep use Aho-Corasick-like
matchers and are the stronger baselines.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from expkit import code_refs

WORDS = (  # noqa: SIM905
    "account cache client config context data event feature handler item layout list manager "
    "model order page payment price query request response result route search service "
    "session state store theme token user value view widget checkout cart wallet search "
    "render update fetch build parse load save apply merge sort filter reduce"
).split()


PROBE = "part0/pkg000"  # the first 100 files


def _keys(rng: random.Random, n: int) -> list[str]:
    keys: list[str] = []
    seen: set[str] = set()
    while len(keys) < n:
        key = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{rng.randrange(1000)}"
        if key not in seen:
            seen.add(key)
            keys.append(key)
    return keys


def _line_pool(rng: random.Random, size: int) -> list[str]:
    """Code-like lines without any key: assignments, calls with string literals, comments."""
    pool = []
    for i in range(size):
        a, b, c = rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS)
        pool.append(
            rng.choice(
                [
                    f"    const {a}{b.title()}{i} = {c}.get('{a}_{b}', {i});",
                    f'    if ({a}.{b}("{c} {a} {b}") === {i}) {{ return "{b}-{c}"; }}',
                    f"    # {a} {b} {c}: the {c} of the {a} goes to the {b} ({i})",
                    f"def {a}_{b}_{i}({c}: str = `{a}`) -> dict: return {{'{b}': {c}}}",
                    f'        log.info("{a}.{b} took %d ms", elapsed_{c}_{i})',
                    "    }",
                    "",
                ]
            )
        )
    return pool


def make_tree(root: Path, *, files: int, mb: float, keys: list[str], seed: int) -> int:
    """Write the tree (two halves, part0 and part1) and return the number of key references."""
    rng = random.Random(seed)
    pool = _line_pool(rng, 5000)
    avg_line = sum(len(x) + 1 for x in pool) / len(pool)
    lines_per_file = max(1, round(mb * 1e6 / files / avg_line))
    refs_per_file = max(1, round(len(keys) * 10 / files))  # ~10 references per key
    n_refs = 0
    exts = [".py", ".ts", ".kt", ".go", ".js", ".swift"]
    for i in range(files):
        part = "part0" if i < files // 2 else "part1"
        d = root / part / f"pkg{i // 100:03d}"
        d.mkdir(parents=True, exist_ok=True)
        body = rng.choices(pool, k=lines_per_file)
        for _ in range(rng.randrange(2 * refs_per_file + 1)):
            key = rng.choice(keys)
            q = rng.choice("'\"`")
            at = rng.randrange(len(body))
            body[at] = f"    val enabled = experiment.variant({q}{key}{q}).value == {q}on{q}"
            n_refs += 1
            decoy = rng.choice(keys)
            body[rng.randrange(len(body))] = (
                f'    legacy = "{decoy}-legacy" + {decoy.replace("-", "_")}'
            )
        (d / f"mod{i}{rng.choice(exts)}").write_text("\n".join(body) + "\n")
    return n_refs


def best_of(repeat: int, fn: Callable[[], object], budget: float = 30.0) -> tuple[float, object]:
    """Best time of up to ``repeat`` runs (fewer once ``budget`` seconds are spent)."""
    times = []
    out: object = None
    while len(times) < repeat and sum(times) < budget:
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def _bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and ".git" not in f.parts)


def run_tool(argv: list[str], cwd: Path) -> int:
    """Matching lines printed by a grep-like tool."""
    done = subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{argv[0]} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout.count(b"\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--small", action="store_true", help="2,000 files / 20 MB, for a quick run")
    p.add_argument("--files", type=int, default=None, help="number of files (default 20,000)")
    p.add_argument("--mb", type=float, default=None, help="total size in MB (default 200)")
    p.add_argument("--keys", type=int, default=2500, help="number of keys (default 2,500)")
    p.add_argument("--repeat", type=int, default=3, help="runs of each timing (best is kept)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--git-budget",
        type=float,
        default=120.0,
        help="run git grep whole only when a probe predicts fewer seconds (else estimate)",
    )
    p.add_argument("--dir", default=None, help="generate the tree here (kept; reused if there)")
    args = p.parse_args()
    files = args.files or (2000 if args.small else 20000)
    mb = args.mb or (20.0 if args.small else 200.0)

    rng = random.Random(args.seed)
    keys = _keys(rng, args.keys)
    few = keys[: max(1, len(keys) // 10)]
    git = shutil.which("git")
    rg = shutil.which("rg")
    gnu_grep = shutil.which("grep")
    if git is None:
        raise SystemExit("git is needed for the comparison")

    with tempfile.TemporaryDirectory(prefix="bench-code-refs-") as tmp_dir:
        tmp = args.dir or tmp_dir
        root = Path(tmp) / f"tree-{files}-{mb:g}-{args.keys}-{args.seed}"
        t = time.perf_counter()
        marker = root / ".git" / "bench-complete"
        if marker.exists():
            n_refs = int(marker.read_text())
        else:
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            n_refs = make_tree(root, files=files, mb=mb, keys=keys, seed=args.seed)
            subprocess.run([git, "init", "-q"], cwd=root, check=True)
            subprocess.run([git, "add", "-A"], cwd=root, check=True)
            marker.write_text(str(n_refs))
        size = sum(
            f.stat().st_size for f in root.rglob("*") if f.is_file() and ".git" not in f.parts
        )
        print(f"tree_files={files}")
        print(f"tree_mb={size / 1e6:.1f}")
        print(f"tree_key_references={n_refs}")
        print(f"setup_s={time.perf_counter() - t:.1f}")
        print(f"cpus={os.cpu_count()}")
        for name, ks in (("keys_full", keys), ("keys_tenth", few)):
            (Path(tmp) / f"{name}.txt").write_text("\n".join(ks) + "\n")

        results: dict[str, float] = {}
        for scope_name, scope in (("full", "."), ("half", "part0")):
            for keys_name, ks in (("keys_full", keys), ("keys_tenth", few)):
                label = f"{scope_name}_{len(ks)}keys"
                keyfile = str(Path(tmp) / f"{keys_name}.txt")
                code_refs(root / scope, ks, progress=False)  # warm the page cache
                secs, df = best_of(
                    args.repeat, lambda s=scope, k=ks: code_refs(root / s, k, progress=False)
                )
                rows = len(df)  # type: ignore[arg-type]
                print(f"{label}_code_refs_s={secs:.3f}", flush=True)
                print(f"{label}_code_refs_rows={rows}")
                mb_s = df.attrs["bytes"] / 1e6 / secs  # type: ignore[attr-defined]
                print(f"{label}_code_refs_mb_per_s={mb_s:.0f}")
                # git grep's time grows with keys x bytes; probe it on the first 100 files and
                # run it whole only when that predicts less than --git-budget seconds
                probe_secs, _ = best_of(
                    1, lambda kf=keyfile: run_tool([git, "grep", "-F", "-f", kf, "--", PROBE], root)
                )
                scope_bytes = _bytes(root / scope)
                estimate = probe_secs * scope_bytes / _bytes(root / PROBE)
                if estimate <= args.git_budget:
                    git_secs, git_lines = best_of(
                        args.repeat,
                        lambda s=scope, kf=keyfile: run_tool(
                            [git, "grep", "-F", "-f", kf, "--", s], root
                        ),
                    )
                    print(f"{label}_git_grep_s={git_secs:.3f}")
                    print(f"{label}_git_grep_lines={git_lines}")
                    print(f"{label}_ratio_vs_git_grep={secs / git_secs:.3f}")
                else:
                    print(f"{label}_git_grep_s_estimated={estimate:.1f}")
                    print(f"{label}_ratio_vs_git_grep_estimated={secs / estimate:.4f}")
                results[label] = secs
                if gnu_grep:
                    grep_secs, _ = best_of(
                        args.repeat,
                        lambda s=scope, kf=keyfile: run_tool(
                            [gnu_grep, "-rF", "--exclude-dir=.git", "-f", kf, s], root
                        ),
                    )
                    print(f"{label}_gnu_grep_s={grep_secs:.3f}")
                    print(f"{label}_ratio_vs_gnu_grep={secs / grep_secs:.2f}")
                if rg:
                    rg_secs, _ = best_of(
                        args.repeat,
                        lambda s=scope, kf=keyfile: run_tool([rg, "-F", "-f", kf, s], root),
                    )
                    print(f"{label}_rg_s={rg_secs:.3f}")
                    print(f"{label}_ratio_vs_rg={secs / rg_secs:.2f}")
        n_few = len(few)
        print(
            f"scaling_keys_x{len(keys) // n_few}_time_x={results[f'full_{len(keys)}keys'] / results[f'full_{n_few}keys']:.2f}"
        )
        print(
            f"scaling_bytes_x2_time_x={results[f'full_{len(keys)}keys'] / results[f'half_{len(keys)}keys']:.2f}"
        )


if __name__ == "__main__":
    main()
