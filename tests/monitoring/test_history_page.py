"""The drift history page: self-contained, a PSI chart per feature, drifted cells marked, versions named."""

import re
import warnings
from pathlib import Path

import pytest

from creditops.files import write_json
from creditops.monitoring import history_page
from creditops.monitoring.history import History, read_history

from ..browser import assert_drawn, dom, needs_chromium, screenshot
from .history_checks import keep, keep_old, report

TITLE = "Drift history of creditops-dev (dev)"


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> History:
    """Four checks: one kept before per-feature figures, one calm, two drifted after version 2 came."""
    folder = tmp_path_factory.mktemp("monitoring")
    keep_old(folder, "dev", 0, "1")
    keep(folder, "dev", 1, "1", report(3))
    keep(folder, "dev", 2, "2", report(12, "delinquency", live_rate=0.33))
    keep(folder, "dev", 3, "2", report(13, "delinquency", live_rate=0.30))
    (folder / "drift-dev-broken.json").write_text("{")
    return read_history(folder, "dev")


@pytest.fixture(scope="module")
def page(kept: History) -> Path:
    """The page, written beside the checks' own pages as `monitor history` writes it."""
    return history_page.render(kept, TITLE, Path(kept.checks[0].page).parent / "drift-history-dev.html")


def _row(page: str, feature: str) -> list[str]:
    """The cells of a feature's row in the feature × check table."""
    found = re.search(rf"<tr><td>{feature}</td>(.*?)</tr>", page)
    assert found is not None
    return re.findall(r"<td[^>]*>.*?</td>", found[1])


def test_the_page_is_self_contained(page: Path) -> None:
    text = page.read_text()
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", text)
    assert "<script" not in text
    assert "<link" not in text
    sources = re.findall(r"src='([^']*)'", text)
    assert sources
    assert all(source.startswith("data:image/png;base64,") for source in sources)
    links = re.findall(r"href='([^']*)'", text)
    assert links == [f"drift-dev-{check.at}.html" for check in read_history(page.parent, "dev").checks]


def test_the_page_charts_the_rate_over_time_and_each_features_psi(page: Path, kept: History) -> None:
    text = page.read_text()
    assert f"<title>{TITLE}</title>" in text
    assert "<h2>Mean predicted probability of default over time</h2>" in text
    assert "4 checks from 2026-12-01 08:00:00 to 2026-12-01 11:00:00 UTC; model versions 1 → 2." in text
    alts = re.findall(r"<img alt='([^']*)'", text)
    assert len(alts) == 1 + len(kept.features)
    assert alts[0].startswith("The mean predicted probability of default in each of 4 checks")
    assert "the latest 30.0% against 22.0%; 1 model version change marked" in alts[0]
    assert "the PSI threshold 0.25 dashed" in text
    pay_0 = next(alt for alt in alts if alt.startswith("PAY_0:"))
    assert pay_0.startswith("PAY_0: PSI in 3 checks against the threshold 0.25; drifted in 2;")
    assert alts[1].split(":")[0] in kept.checks[-1].drifted_features  # most often drifted first


def test_drifted_cells_are_marked_in_the_feature_by_check_table(page: Path, kept: History) -> None:
    text = page.read_text()
    assert "<h2>Feature × check</h2>" in text
    cells = _row(text, "PAY_0")
    assert len(cells) == 4
    assert cells[0] == "<td class='none'>—</td>"  # the old check kept no figures
    assert "class='drift" not in cells[1]
    for cell in cells[2:]:
        assert cell.startswith("<td class='drift")
        assert cell.endswith(" ●</td>")
    sex = _row(text, "SEX")
    assert not any("drift" in cell for cell in sex)
    marked = sum(cell.startswith("<td class='drift") for feature in kept.features for cell in _row(text, feature))
    assert marked == sum(len(check.drifted_features) for check in kept.checks[1:])


def test_each_checks_model_version_is_shown_and_a_change_marked(page: Path) -> None:
    text = page.read_text()
    header = re.findall(r"<th( class='new-version')?>#(\d)<br>.*?version (\d)( \(new\))?", text)
    assert header == [
        ("", "1", "1", ""),
        ("", "2", "1", ""),
        (" class='new-version'", "3", "2", " (new)"),
        ("", "4", "2", ""),
    ]
    checks = text.split("<h2>Checks</h2>")[1]
    assert "<td>2 (new)</td>" in checks
    assert checks.count("(new)") == 1


def test_the_page_names_old_summaries_and_unreadable_files(page: Path) -> None:
    text = page.read_text()
    assert "1 of 4 checks (2026-12-01 08:00:00 UTC) were kept before per-feature figures were recorded" in text
    assert "drift-dev-broken.json: not JSON" in text
    assert "no figures kept" in text


def test_a_long_history_shows_the_newest_checks_in_the_table(
    kept: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_page, "TABLE_CHECKS", 2)
    monkeypatch.setattr(history_page, "_psi_figure", lambda history, feature: "")  # the table is what is tested
    text = history_page.render(kept, TITLE, tmp_path / "page.html").read_text()
    assert "Each feature's PSI, the newest 2 of 4 checks" in text
    assert len(_row(text, "PAY_0")) == 2


def test_the_page_is_replaced_whole(kept: History, tmp_path: Path) -> None:
    target = tmp_path / "history.html"
    target.write_text("an older page")
    history_page.render(History("dev", kept.checks[:1]), TITLE, target)
    assert "model version 1." in target.read_text()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["history.html"]  # no staging left behind


def test_an_empty_history_says_so(tmp_path: Path) -> None:
    text = history_page.render(History("dev", ()), TITLE, tmp_path / "empty.html").read_text()
    assert "No drift checks kept yet." in text


@needs_chromium
def test_the_history_page_renders_in_headless_chromium(page: Path, tmp_path: Path) -> None:
    assert_drawn(screenshot(page, tmp_path / "history.png", tmp_path / "profile"))
    assert f"<title>{TITLE}</title>" in dom(page, tmp_path / "profile")


def test_features_named_in_another_script_draw_without_a_warning_per_glyph(tmp_path: Path) -> None:
    summary = keep(tmp_path, "dev", 0, "1", report(12, "delinquency"))
    assert summary.features is not None
    renamed = tuple(item.model_copy(update={"feature": f"収入_{item.feature}"}) for item in summary.features)
    path = next(tmp_path.glob("drift-dev-*.json"))
    write_json(path, summary.model_copy(update={"features": renamed}).model_dump(mode="json"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        page = history_page.render(read_history(tmp_path, "dev"), TITLE, tmp_path / "history.html")
    assert "収入_PAY_0" in page.read_text()
    assert [str(item.message) for item in caught if "Glyph" in str(item.message)] == []
