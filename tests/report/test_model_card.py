"""The model card: self-contained HTML with every section, rendered by a real browser."""

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from creditops.cli import main
from creditops.config.environments import GateSettings
from creditops.config.modelling import ModellingConfig
from creditops.context import Context
from creditops.data.contract import Contract
from creditops.modelling.estimators import TrainedModel
from creditops.modelling.fairness import fairness_report, protected_groups
from creditops.pipeline import run_pipeline
from creditops.report.model_card import CardInputs, render

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SECTIONS = (
    "Data",
    "Metrics",
    "Curves",
    "Thresholds",
    "Slices",
    "Fairness",
    "Feature importance",
    "Champion",
    "Lineage",
)


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory, small_model: TrainedModel, small_frame: pd.DataFrame) -> Path:
    inputs = CardInputs(
        title="credit_default_model version 7",
        model=small_model,
        data=small_frame,
        lineage={"git_commit": "abc123", "data_sha256": "f00d"},
        champion=small_model,
        champion_label="champion v6",
        evidence={"decision": "promoted", "environment": "prod", "reason": "ok", "checks": []},
    )
    return render(inputs, tmp_path_factory.mktemp("card") / "card.html")


def test_card_has_every_section_and_is_self_contained(card: Path) -> None:
    page = card.read_text()
    for section in SECTIONS:
        assert f"<h2>{section}</h2>" in page
    assert page.count("data:image/png;base64,") == 6
    assert not re.search(r"(src|href)=['\"]https?://", page)
    assert "champion v6" in page
    assert "SEX=female" in page
    assert "MARRIAGE=married" in page
    assert "abc123" in page
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert not re.search(r"\bnan\b", text, flags=re.IGNORECASE)
    assert "<td>F1</td>" in page
    assert "<td>PR AUC</td>" in page
    alts = re.findall(r"<img alt='([^']*)'", page)
    assert len(alts) == 6
    assert all(alt and alt != "plot" for alt in alts)
    assert any(alt.startswith("ROC curve") and "area 0." in alt for alt in alts)
    assert "A negative value (red)" in page


def test_card_gives_the_global_view_of_the_reason_codes(card: Path, small_model: TrainedModel, small_frame) -> None:
    from creditops.modelling.reasons import contributions, mean_absolute_by_group

    page = card.read_text()
    assert "<h2>Contributions (global view of the reason codes)</h2>" in page
    assert "exact TreeSHAP" in page
    contract = small_model.contract
    expected = mean_absolute_by_group(contract, contributions(small_model, contract.feature_matrix(small_frame)))
    for code, value in expected.items():
        assert re.search(rf"<td>{code}</td>.*?<td>{value:.3f}</td>", page, flags=re.DOTALL)
    contributions_section = page.split("<h2>Contributions")[1].split("<h2>")[0]
    for name in contract.protected:  # not model inputs, so never a reason
        assert name not in contributions_section


def test_card_shows_the_fairness_of_the_decisions(
    card: Path, small_model: TrainedModel, small_frame: pd.DataFrame
) -> None:
    page = card.read_text()
    section = page.split("<h2>Fairness</h2>")[1].split("<h2>")[0]
    assert "Protected columns: SEX, MARRIAGE, AGE. They are not model inputs" in section
    assert "below the threshold 0.5" in section
    contract = small_model.contract
    probability = small_model.predict_proba(contract.feature_matrix(small_frame))
    report = fairness_report(
        contract.labels(small_frame), probability, 0.5, protected_groups(contract, small_frame), min_rows=150
    )
    assert [column.column for column in report.columns] == ["SEX", "MARRIAGE", "AGE"]
    for column in report.columns:
        assert f"<h3>{column.column}</h3>" in section
        for rates in column.groups:
            cells = rf"<td>{re.escape(rates.group)}</td>\s*<td>{rates.rows:,}</td>\s*<td>{rates.approval_rate:.1%}</td>"
            assert re.search(cells, section)
        assert f"Adverse impact ratio <strong>{column.adverse_impact_ratio:.3f}</strong>" in section
        assert f"Equalized odds difference <strong>{column.equalized_odds_difference:.3f}</strong>" in section
        low, high = column.approval_gap, column.odds_gap
        assert low is not None
        assert high is not None
        assert f"({low.low_group} {low.low:.1%} vs {low.high_group} {low.high:.1%} approved)" in section
        assert f"({column.odds_rate} {high.low_group} {high.low:.1%} vs {high.high_group} {high.high:.1%})" in section
    assert "<td>other</td>" in section  # MARRIAGE's small group: shown
    assert "<td>no</td>" in section  # ...and not judged
    assert "meets the minimum 0.8" in section
    assert "meets the maximum 0.2" in section


def test_the_card_holds_the_fairness_figures_to_the_environment_limits(
    small_model: TrainedModel, small_frame: pd.DataFrame, tmp_path: Path
) -> None:
    strict = GateSettings(min_adverse_impact_ratio=1.0, max_equalized_odds_difference=0.0, min_group_rows=5_000)
    inputs = CardInputs(title="strict", model=small_model, data=small_frame, gate=strict)
    section = render(inputs, tmp_path / "strict.html").read_text().split("<h2>Fairness</h2>")[1].split("<h2>")[0]
    assert section.count("Not judged: fewer than two groups of 5000+ rows with both outcomes.") == 3
    judging = CardInputs(
        title="strict", model=small_model, data=small_frame, gate=strict.model_copy(update={"min_group_rows": 10})
    )
    judged = render(judging, tmp_path / "judged.html").read_text()
    assert "<strong>fails</strong> the minimum 1" in judged
    assert "<strong>fails</strong> the maximum 0" in judged


def test_a_contract_without_protected_columns_has_nothing_to_measure(
    small_model: TrainedModel, small_frame: pd.DataFrame, tmp_path: Path
) -> None:
    payload = small_model.contract.model_dump(mode="json")
    for name in small_model.contract.protected:
        payload["columns"][name]["role"] = "ignore"
        payload["slices"].pop(name)
    model = TrainedModel(small_model.algorithm, small_model.estimator, Contract.model_validate(payload))
    page = render(CardInputs(title="none", model=model, data=small_frame), tmp_path / "none.html").read_text()
    assert "The contract declares no protected columns: there is nothing to measure." in page


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_card_renders_in_headless_chromium(card: Path, tmp_path: Path) -> None:
    flags = [
        *("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"),
        *("--disable-background-networking", "--disable-component-update", "--disable-sync"),
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    shot = tmp_path / "card.png"
    subprocess.run(
        [CHROMIUM, *flags, "--window-size=1200,1600", f"--screenshot={shot}", card.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[0] > 100
    assert pixels.std() > 0.05  # not blank
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", card.as_uri()], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert "<title>credit_default_model version 7</title>" in dom


@pytest.mark.e2e
def test_run_writes_a_card_and_the_report_command_writes_another(
    workspace: Path, context: Context, data_file: Path, capsys
) -> None:
    result = run_pipeline(data_file, ModellingConfig.model_validate({"train": {"n_estimators": 20}}), context)
    assert result.report.is_file()
    assert "credit_default_model version 1" in result.report.read_text()
    out = workspace / "card.html"
    assert main(["report", "models:/credit_default_model@champion", "--out", str(out), "--data", str(data_file)]) == 0
    assert "<h2>Slices</h2>" in out.read_text()
    assert main(["report", "models:/credit_default_model/5"]) == 1
    assert "no version 5" in capsys.readouterr().err
    first = result.report.read_text()
    again = run_pipeline(data_file, ModellingConfig.model_validate({"train": {"n_estimators": 20}}), context)
    assert not again.registration.registered
    assert again.report.name == f"credit_default_model-run-{again.run_id[:12]}.html"
    assert "credit_default_model candidate (not registered)" in again.report.read_text()
    assert result.report.read_text() == first  # the version's card is not overwritten by a run that registered nothing


def test_a_large_card_says_what_it_sampled_and_keeps_every_row_for_the_metric_values(
    small_model: TrainedModel, small_frame: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.metrics import roc_auc_score

    from creditops.data.schema import LABEL
    from creditops.report import model_card

    rows = len(small_frame)
    whole = render(CardInputs(title="whole", model=small_model, data=small_frame), tmp_path / "whole.html")
    assert "Sampled." not in whole.read_text()
    monkeypatch.setattr(model_card, "SAMPLE_ROWS", rows // 4)
    page = render(CardInputs(title="sampled", model=small_model, data=small_frame), tmp_path / "s.html").read_text()
    assert f"The metric values and the fairness figures use all {rows:,} rows" in page
    assert f"a seeded sample of {rows // 4:,} rows" in page
    auc = roc_auc_score(small_frame[LABEL], small_model.predict_proba(small_model.contract.feature_matrix(small_frame)))
    assert f"<td>ROC AUC</td>\n      <td>{auc:.4f}</td>" in page  # the value on every row
    slice_rows = re.search(r"<td>SEX=male</td>\s*<td>(\d+)</td>", page)
    female = re.search(r"<td>SEX=female</td>\s*<td>(\d+)</td>", page)
    assert slice_rows is not None
    assert female is not None
    assert int(slice_rows[1]) + int(female[1]) == rows // 4  # slices on the sample


def test_a_scorecards_card_shows_its_points_table_and_a_tree_models_does_not(
    small_model: TrainedModel, small_frame, tmp_path: Path
) -> None:
    from creditops.data.contract import uci
    from creditops.modelling.estimators import train_model

    scorecard = train_model(
        uci().feature_matrix(small_frame), uci().labels(small_frame), algorithm="scorecard", seed=0, contract=uci()
    )
    page = render(CardInputs(title="points", model=scorecard, data=small_frame), tmp_path / "p.html").read_text()
    assert "<h2>Model</h2><p>Points table: base " in page
    assert "points double the odds of good to bad" in page
    for characteristic in scorecard.estimator.table.characteristics:
        assert f"<td>{characteristic.feature}</td>" in page
    assert "missing or unknown" in page
    trees = render(CardInputs(title="trees", model=small_model, data=small_frame), tmp_path / "t.html").read_text()
    assert "Points table" not in trees
