"""Mutation testing of the decision modules: run mutmut, print the score and every surviving mutant, and
fail below the threshold (`make mutation`; the modules and their tests are listed in pyproject.toml)."""

import argparse
import shutil
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def mutmut(*arguments: str) -> str:
    program = Path(sys.executable).parent / "mutmut"
    done = subprocess.run([str(program), *arguments], cwd=PROJECT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"mutmut {' '.join(arguments)} failed: {(done.stderr or done.stdout).strip()[-500:]}")
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minimum", type=float, default=95.0, help="Least share of mutants killed, in percent")
    parser.add_argument("--keep", action="store_true", help="Reuse earlier results (default: mutate afresh)")
    args = parser.parse_args(argv)
    if not args.keep:
        shutil.rmtree(PROJECT / "mutants", ignore_errors=True)
    mutmut("run", "--max-children", "2")
    results = [line.split(": ") for line in mutmut("results", "--all", "true").splitlines() if ": " in line]
    verdicts = Counter(verdict.strip() for _, verdict in results)
    judged = sum(verdicts.values()) - verdicts["no tests"]
    score = 100 * verdicts["killed"] / max(judged, 1)
    survivors = [name.strip() for name, verdict in results if verdict.strip() == "survived"]
    with ThreadPoolExecutor(2) as pool:  # one `mutmut show` process a survivor, two at a time
        shown = pool.map(lambda name: mutmut("show", name), survivors)
        for name, text in zip(survivors, shown, strict=True):
            diff = [line for line in text.splitlines() if line.startswith(("- ", "+ "))]
            print(f"survived {name}\n  " + "\n  ".join(diff))
    print(
        f"mutation score: {verdicts['killed']} of {judged} mutants killed ({score:.1f} %); "
        + ", ".join(f"{count} {verdict}" for verdict, count in sorted(verdicts.items()))
    )
    if score < args.minimum:
        print(f"below the minimum of {args.minimum:g} %: kill the survivors above or show they are equivalent")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
