"""Write environment/conda.yml: the conda environment `creditops azure render` writes for Azure ML (one
function, creditops.azure.render.conda_spec, from pyproject.toml's dependencies). tests/ci/test_pipelines.py
fails when the file and the function disagree; this rewrites the file."""

import argparse
from pathlib import Path

import yaml

from creditops.azure.render import conda_spec

PROJECT = Path(__file__).resolve().parents[1]
TARGET = PROJECT / "environment" / "conda.yml"
HEADER = """\
# The conda environment of creditops: `conda env create -f environment/conda.yml`, then, in it,
# `pip install --no-deps -e .`. The same environment `creditops azure render` writes for Azure ML jobs and
# deployments (creditops.azure.render.conda_spec, from pyproject.toml's dependencies); written by
# `python tools/conda_env.py`, and tests/ci/test_pipelines.py keeps the two equal.
"""


def text() -> str:
    """The file's text: the header and the rendered environment."""
    return HEADER + yaml.safe_dump(conda_spec(PROJECT), sort_keys=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=TARGET, help="Where to write (default: environment/conda.yml)")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text(), encoding="utf-8")
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
