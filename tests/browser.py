"""Headless Chromium for the tests of self-contained pages: found once, skipped where it is not installed."""

import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")


def _flags(profile: Path) -> list[str]:
    return [
        *("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"),
        *("--disable-background-networking", "--disable-component-update", "--disable-sync"),
        f"--user-data-dir={profile}",
    ]


def screenshot(page: Path, shot: Path, profile: Path, size: str = "1200,1600") -> Path:
    """A PNG of `page` as Chromium draws it in a window of `size` (width,height)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    subprocess.run(
        [CHROMIUM, *_flags(profile), f"--window-size={size}", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return shot


def dom(page: Path, profile: Path) -> str:
    """The document Chromium builds from `page`, serialized."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    return subprocess.run(
        [CHROMIUM, *_flags(profile), "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


def assert_drawn(shot: Path) -> None:
    """The screenshot is an image of some height and not blank."""
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[0] > 100
    assert pixels.std() > 0.05  # not blank
