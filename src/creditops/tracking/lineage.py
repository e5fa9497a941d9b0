"""Lineage: where a model came from (code commit, data digest, config digest) and its fingerprint."""

import hashlib
import shutil

# git runs with fixed argument lists and no shell.
import subprocess  # nosec B404
from pathlib import Path

import creditops


def git_commit(directory: Path | None = None, override: str | None = None) -> str:
    """The commit checked out in `directory` (+ '-dirty' with uncommitted changes), else 'unknown'.

    `override` (the context's, from $CREDITOPS_GIT_COMMIT) wins, for builds from an exported tree
    such as an Azure ML job's.
    """
    if override:
        return override
    git = shutil.which("git")
    if git is None:
        return "unknown"
    cwd = directory or Path.cwd()
    try:
        commit = _git(git, cwd, "rev-parse", "HEAD")
        status = _git(git, cwd, "status", "--porcelain", "--untracked-files=no")
    except (subprocess.CalledProcessError, OSError):
        return "unknown"
    return f"{commit}-dirty" if status else commit


def _git(git: str, cwd: Path, *arguments: str) -> str:
    run = subprocess.run([git, *arguments], cwd=cwd, capture_output=True, text=True, check=True)  # nosec B603
    return run.stdout.strip()


def fingerprint(*, data_sha256: str, config_hash: str, commit: str) -> str:
    """What makes two trainings the same: data, config, code commit and package version."""
    parts = (data_sha256, config_hash, commit, creditops.__version__)
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
