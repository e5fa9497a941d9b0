"""The model card: self-contained HTML with every section, rendered by a real browser."""

import re
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
from creditops.report.build import Standing, card_for_candidate, environment_states, standing
from creditops.report.model_card import CardInputs, Summary, render, verdict
from creditops.tracking import names
from creditops.tracking.registry import VersionInfo

from ..browser import assert_drawn, dom, needs_chromium, screenshot

SECTIONS = (
    "Summary",
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
        evidence={
            "decision": "promoted",
            "environment": "prod",
            "reason": "ok",
            "decided_at": "2026-12-01T09:30:00+00:00",
            "checks": [],
            "candidate": {"roc_auc": 0.7712, "roc_auc_ci": {"low": 0.7501, "high": 0.7920, "mean": 0.771}},
        },
        status="Champion in prod.",
        summary=Summary(
            model="credit_default_model version 7",
            date="registered 2026-12-01 09:00 UTC",
            environments=(
                ("dev", "not known from this store"),
                ("staging", "not known from this store"),
                ("prod", "champion"),
            ),
            source="the test split of credit.csv (test ratio 0.2, seed 42)",
        ),
    )
    return render(inputs, tmp_path_factory.mktemp("card") / "card.html")


def _section(page: str, title: str) -> str:
    return page.split(f"<h2>{title}</h2>")[1].split("<h2>")[0]


def test_the_summary_opens_the_card_with_the_model_its_states_and_its_gate_verdict(card: Path) -> None:
    page = card.read_text()
    headings = re.findall(r"<h2>([^<]*)</h2>", page)
    assert headings[0] == "Summary"  # before every other section
    summary = _section(page, "Summary")
    assert "credit_default_model version 7 · learner lightgbm · registered 2026-12-01 09:00 UTC" in summary
    assert "<th>Now</th><td>Champion in prod.</td>" in summary
    assert "<th>prod</th><td>champion</td>" in summary
    assert "<th>dev</th><td>not known from this store</td>" in summary
    assert "Promoted in prod on 2026-12-01: ok." in summary
    assert "The gate measured ROC AUC 0.7712 (CI 0.7501–0.7920) on its own holdout." in summary
    assert "the test split of credit.csv (test ratio 0.2, seed 42): 2,000 rows, default rate" in summary
    assert "values and intervals on every row" in summary


def test_the_summary_shows_the_metrics_sections_values_and_intervals(card: Path) -> None:
    page = card.read_text()
    summary, metrics = _section(page, "Summary"), _section(page, "Metrics")
    for name in ("ROC AUC", "PR AUC", "Brier score"):
        row = re.search(rf"<td>{name}</td>\s*<td>([\d.]+)</td>\s*<td>([\d.]+)</td>\s*<td>([\d.]+)</td>", metrics)
        assert row is not None
        value, low, high = row.groups()
        assert float(low) <= float(value) <= float(high)
        assert f"{name} <strong>{value}</strong> (95% CI {low}–{high})" in summary
    assert "log loss" not in summary  # the headline only


def test_the_gate_verdict_says_promoted_blocked_awaiting_or_not_gated() -> None:
    # Given decisions as the release flow records them
    blocked = {
        "decision": "blocked",
        "environment": "staging",
        "reason": "the gate failed: minimum_roc_auc",
        "mode": "enabled",
        "decided_at": "2026-12-02T10:00:00+00:00",
        "checks": [{"name": "minimum_roc_auc", "verdict": "fail"}, {"name": "slices", "verdict": "pass"}],
    }
    waiting = {
        "decision": names.AWAITING_APPROVAL,
        "environment": "prod",
        "reason": "the environment requires an approval",
    }
    # Then each reads as one sentence
    assert verdict(blocked) == (
        "Blocked in staging on 2026-12-02: the gate failed: minimum_roc_auc. Failed checks: minimum_roc_auc."
    )
    assert verdict(waiting) == "Awaiting approval in prod: the environment requires an approval."
    assert verdict({**blocked, "decision": "promoted", "mode": "dry-run", "checks": []}).startswith(
        "Promoted in staging on 2026-12-02 (gate dry-run): "
    )
    assert verdict(None) == "Not gated: no gate decision recorded for this model."


def _version(*aliases: str, tags: dict[str, str] | None = None) -> VersionInfo:
    return VersionInfo("credit_default_model", "2", aliases, tags or {})


def test_the_state_in_the_stores_environment_comes_from_its_aliases_and_decisions() -> None:
    promoted = {"environment": "prod", "decision": "promoted", "decided_at": "2026-12-01T09:00:00+00:00"}
    champion = standing(_version(names.CHAMPION), "prod", promoted, None)
    assert (champion.state, champion.sentence) == ("champion", "Champion in prod.")
    gone = standing(_version(), "prod", promoted, "version 2 was rolled back in prod on X by bo", "complaints")
    assert gone.state == "withdrawn (rolled back)"
    assert (
        gone.sentence
        == "Rolled back / withdrawn in prod: version 2 was rolled back in prod on X by bo. Reason: complaints."
    )
    waiting = standing(
        _version(names.CHALLENGER), "prod", {"environment": "prod", "decision": "awaiting-approval"}, None
    )
    assert waiting.state == "challenger (awaiting approval)"
    assert standing(_version(), "prod", {**promoted, "decision": "blocked"}, None).state == "blocked by the gate"
    assert standing(_version(names.PREVIOUS_CHAMPION), "prod", promoted, None).state.startswith("previous champion")
    assert standing(_version(), "dev", None, None) == Standing("dev", "registered, never gated", "")


def test_other_environments_are_what_this_store_records_of_them_else_not_known() -> None:
    # Given prod's store, holding a staging decision and a dev rollback of the version (a shared store)
    version = _version(names.CHAMPION, tags={names.rollback_tag("dev", "at"): "2026-11-30T08:00:00+00:00"})
    records = [{"environment": "staging", "decision": "promoted", "decided_at": "2026-11-29T08:00:00+00:00"}]
    states = dict(environment_states(version, records, standing(version, "prod", None, None), store="sqlite:///x.db"))
    assert states == {
        "dev": "withdrawn (rolled back)",
        "staging": "last decision this store records: promoted on 2026-11-29",
        "prod": "champion",
    }
    # A store of no environment with no decisions: a row of its own, and no environment known from it
    alone = _version(names.CHAMPION)
    assert dict(environment_states(alone, [], standing(alone, "", None, None), "sqlite:///x.db")) == {
        "this store (sqlite:///x.db)": "champion",
        "dev": "not known from this store",
        "staging": "not known from this store",
        "prod": "not known from this store",
    }


def test_a_candidates_card_says_it_is_not_registered_nor_gated(
    small_model: TrainedModel, small_frame: pd.DataFrame, tmp_path: Path
) -> None:
    lineage = {names.DATA_FILE: "input/credit.csv", "git_commit": "abc123"}
    path = card_for_candidate(
        tmp_path, small_model, small_frame, "credit_default_model", None, 0.5, lineage, None, None
    )
    summary = _section(path.read_text(), "Summary")
    assert "credit_default_model: candidate, not registered · learner lightgbm · trained " in summary
    for env in ("dev", "staging", "prod"):
        assert f"<th>{env}</th><td>not registered</td>" in summary
    assert "Not gated: no gate decision recorded for this model." in summary
    assert "the run&#x27;s test split of input/credit.csv (rows it was not trained on): 2,000 rows" in summary


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


@needs_chromium
def test_card_renders_in_headless_chromium(card: Path, tmp_path: Path) -> None:
    shot = screenshot(card, tmp_path / "card.png", tmp_path / "profile")
    assert_drawn(shot)
    drawn = dom(card, tmp_path / "profile")
    assert "<title>credit_default_model version 7</title>" in drawn
    assert re.findall(r"<h2>([^<]*)</h2>", drawn)[0] == "Summary"
    assert "<th>prod</th><td>champion</td>" in drawn
    # The summary's tinted box (#ebf4ff) is drawn in the top half of the first screenful
    from matplotlib.image import imread

    top = imread(shot)[:800, :, :3]
    tinted = (abs(top - [0xEB / 255, 0xF4 / 255, 0xFF / 255]) < 2 / 255).all(axis=2)
    assert tinted.mean() > 0.1


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
    # The run's card states the version it registered, before any gate; the report command's, where it stands
    assert "registered as version 1 in this run&#x27;s store, before any gate decision" in result.report.read_text()
    summary = _section(out.read_text(), "Summary")
    assert "credit_default_model version 1 · learner lightgbm · registered 20" in summary
    assert re.search(r"<th>this store \(sqlite:///[^<]*\)</th><td>champion</td>", summary)
    assert "<th>prod</th><td>not known from this store</td>" in summary
    assert "Not gated: no gate decision recorded for this model." in summary
    assert f"the data passed with --data ({data_file}): 2,000 rows" in summary
    assert main(["report", "models:/credit_default_model/5"]) == 1
    assert "no version 5" in capsys.readouterr().err
    first = result.report.read_text()
    again = run_pipeline(data_file, ModellingConfig.model_validate({"train": {"n_estimators": 20}}), context)
    assert not again.registration.registered
    assert again.report.name == f"credit_default_model-run-{again.run_id[:12]}.html"
    assert "credit_default_model candidate (not registered)" in again.report.read_text()
    assert "<th>dev</th><td>not registered</td>" in again.report.read_text()
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
    summary = page.split("<h2>Summary</h2>")[1].split("<h2>")[0]
    assert f"{rows:,} rows, default rate" in summary
    assert f"values on every row, intervals on a seeded sample of {rows // 4:,} rows" in summary
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


@pytest.mark.e2e
def test_a_versions_card_states_the_same_standing_in_its_summary_as_in_its_status_line(
    context: Context, data_file: Path
) -> None:
    from dataclasses import replace

    from creditops.config.environments import load_environment
    from creditops.gate import evidence
    from creditops.report.build import card_for_version
    from creditops.tracking.registry import Registry

    run_pipeline(data_file, ModellingConfig.model_validate({"train": {"n_estimators": 20}}), context)
    prod = replace(context, environment=load_environment("prod"))
    registry = Registry(context.store_uri)
    version = registry.describe(context.model_name, "1")
    # Given version 1 promoted in prod, as this (prod's) store records it
    promoted = {
        "model_name": version.name,
        "model_version": "1",
        "environment": "prod",
        "decision": "promoted",
        "reason": "every check passed",
        "mode": "enabled",
        "checks": [{"name": "minimum_roc_auc", "verdict": "pass", "detail": "ROC AUC ≥ 0.6"}],
        "decided_at": "2026-12-01T09:00:00+00:00",
    }
    evidence.attach(registry, context.evidence_dir, version, promoted)
    page = card_for_version(prod, f"{version.name}/1", None, None).read_text()
    summary = _section(page, "Summary")
    assert "<th>Now</th><td>Champion in prod.</td>" in summary
    assert "<th>prod</th><td>champion</td>" in summary
    assert "<th>dev</th><td>not known from this store</td>" in summary
    assert "Promoted in prod on 2026-12-01: every check passed." in summary
    split = ModellingConfig().data
    assert (
        f"the test split of {data_file} (test ratio {split.test_train_ratio:g}, seed {split.random_seed}): " in summary
    )
    # When a rollback withdraws it in prod
    when = "2026-12-02T09:00:00+00:00"
    rolled = {"at": when, "by": "bo", "reason": "complaints"}
    registry.set_tags(version.name, "1", {names.rollback_tag("prod", key): value for key, value in rolled.items()})
    rollback = {"environment": "prod", "decision": names.ROLLED_BACK, "reason": "complaints", "decided_at": when}
    evidence.attach(registry, context.evidence_dir, version, rollback)
    page = card_for_version(prod, f"{version.name}/1", None, None, "Noted.").read_text()
    # Then its summary, status line and gate verdict agree
    summary = _section(page, "Summary")
    assert (
        f"<th>Now</th><td>Rolled back / withdrawn in prod: version 1 was rolled back in prod on {when} by bo" in summary
    )
    assert "Reason: complaints. Noted.</td>" in summary
    assert "<th>prod</th><td>withdrawn (rolled back)</td>" in summary
    assert "Promoted in prod on 2026-12-01: every check passed." in summary  # the latest gate decision
