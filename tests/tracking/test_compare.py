"""`models diff`: two versions side by side, and only what differs counted as a difference."""

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from creditops.context import Context
from creditops.data.contract import uci
from creditops.errors import CreditopsError
from creditops.gate import evidence
from creditops.modelling.estimators import TrainedModel
from creditops.tracking import registry
from creditops.tracking.compare import Row, VersionFacts, compare, contract_facts, diff, gate_figures
from creditops.tracking.registry import Registry
from creditops.tracking.runs import Tracker

MODEL = "credit_default_model"


def _facts(version: str = "1", **changed: Any) -> VersionFacts:
    facts = VersionFacts(
        name=MODEL,
        version=version,
        aliases=("champion",),
        created_ms=0,
        run_id="run1",
        metrics={"roc_auc": "0.771200"},
        lineage={"git_commit": "abc", "data_sha256": "d1"},
        params={"train.n_estimators": "300", "train.learning_rate": "0.05"},
        gate={},
        contract=contract_facts(uci()),
    )
    return replace(facts, **changed)


def _differences(a: VersionFacts, b: VersionFacts) -> list[tuple[str, str, str | None, str | None]]:
    return [(row.section, row.key, row.a, row.b) for row in compare(a, b).differences]


def test_the_same_facts_twice_have_no_differences() -> None:
    facts = _facts()
    found = compare(facts, facts)
    assert found.differences == ()
    assert [row.section for row in found.rows if row.section == "gate"] == ["gate"]  # decision: none
    assert {row.section for row in found.rows} == {"registry", "metrics", "lineage", "params", "gate", "contract"}


def test_a_parameter_and_a_metric_that_differ_are_the_differences() -> None:
    a = _facts()
    b = _facts("2", params={**a.params, "train.n_estimators": "30"}, metrics={"roc_auc": "0.760000"})
    assert _differences(a, b) == [
        ("metrics", "roc_auc", "0.771200", "0.760000"),
        ("params", "train.n_estimators", "300", "30"),
    ]


def test_a_key_only_one_version_has_differs_from_none() -> None:
    a = _facts()
    b = _facts(params={**a.params, "train.num_leaves": "7"})
    assert _differences(a, b) == [("params", "train.num_leaves", None, "7")]


def test_contract_columns_added_removed_and_changed_are_named() -> None:
    # Given B's contract: BILL_AMT6 gone, a column added, PAY_AMT6's type and SEX's role changed
    a = _facts()
    columns: dict[str, dict[str, Any]] = {key: dict(value) for key, value in a.contract.columns.items()}
    columns.pop("BILL_AMT6")
    columns["PAY_AMT6"]["type"] = "number"
    columns["SEX"]["role"] = "ignore"
    columns["SCORE"] = {"role": "feature", "type": "number", "range": [0, 1], "missing": True, "monotone": None}
    b = _facts(contract=replace(a.contract, digest="other", columns=columns))
    # Then each is a difference, described on both sides
    found = {key: (first, second) for section, key, first, second in _differences(a, b) if section == "contract"}
    assert found["column BILL_AMT6"] == ("feature, integer, range -10000000..10000000", None)
    assert found["column SCORE"] == (None, "feature, number, range 0..1, missing allowed")
    assert found["column PAY_AMT6"] == ("feature, integer, range 0..10000000", "feature, number, range 0..10000000")
    assert found["column SEX"] == ("protected, category, categories 1 2", "ignore, category, categories 1 2")
    assert found["digest"][1] == "other"
    alike = next(row for row in compare(a, b).rows if row.key == "columns alike")
    assert alike == Row("contract", "columns alike", "22", "22")


def test_a_version_without_a_contract_says_so() -> None:
    assert _differences(_facts(), _facts(contract=None)) == [("contract", "carried", "yes", "no")]


def test_gate_figures_carry_the_interval_the_champion_and_each_check() -> None:
    record = {
        "decision": "promoted",
        "environment": "staging",
        "mode": "enabled",
        "decided_at": "2026-12-05T06:00:00+00:00",
        "candidate": {"roc_auc": 0.7712, "roc_auc_ci": {"mean": 0.771, "low": 0.75, "high": 0.79}},
        "champion": {
            "version": "1",
            "roc_auc": 0.76,
            "roc_auc_ci": {"low": 0.74, "high": 0.78},
            "difference_ci": {"mean": 0.0112, "low": -0.002, "high": 0.024},
        },
        "checks": [{"name": "min_roc_auc", "verdict": "pass", "detail": "…"}],
        "approver": "ana",
    }
    assert gate_figures(record) == {
        "decision": "promoted",
        "environment": "staging",
        "mode": "enabled",
        "decided_at": "2026-12-05T06:00:00+00:00",
        "holdout roc_auc": "0.7712 (0.7500 … 0.7900)",
        "champion compared": "v1",
        "champion roc_auc": "0.7600 (0.7400 … 0.7800)",
        "roc_auc − champion": "+0.0112 (-0.0020 … +0.0240)",
        "check min_roc_auc": "pass",
        "approver": "ana",
    }
    first = gate_figures({"decision": "promoted", "candidate": {"roc_auc": 0.7}, "champion": None, "checks": []})
    assert first == {"decision": "promoted", "holdout roc_auc": "0.7000", "champion compared": "none (first model)"}


def test_json_names_both_versions_and_the_differences() -> None:
    a = _facts()
    payload = compare(a, _facts("2", params={**a.params, "train.n_estimators": "30"})).as_dict()
    assert set(payload) == {"a", "b", "differences"}
    assert (payload["a"]["version"], payload["b"]["version"]) == ("1", "2")
    assert set(payload["a"]) == {
        "name", "version", "aliases", "created_ms", "run_id", "metrics", "lineage", "params", "gate", "contract"
    }  # fmt: skip
    assert payload["differences"] == [{"section": "params", "key": "train.n_estimators", "a": "300", "b": "30"}]


@pytest.mark.e2e
def test_two_registered_versions_differ_in_trees_and_contract(two_versions: Context) -> None:
    store = Registry(two_versions.store_uri)
    found = diff(store, "1", f"{MODEL}@champion", default_name=MODEL, gate_of=lambda info: None)
    assert (found.a.version, found.b.version) == ("1", "2")
    differences = {(row.section, row.key): (row.a, row.b) for row in found.differences}
    assert differences[("params", "train.n_estimators")] == ("5", "30")
    assert differences[("contract", "column BILL_AMT6")][1].startswith("ignore, integer")
    assert ("params", "train.learning_rate") not in differences
    assert found.a.lineage["data_sha256"] == found.b.lineage["data_sha256"]
    assert found.a.metrics.keys() >= {"roc_auc", "pr_auc"}
    # The same version twice, however it is named, has no differences
    assert diff(store, "2", f"{MODEL}/2", default_name=MODEL, gate_of=lambda info: None).differences == ()


@pytest.mark.e2e
def test_unknown_versions_and_models_are_one_line_refusals(two_versions: Context) -> None:
    store = Registry(two_versions.store_uri)
    with pytest.raises(CreditopsError, match=r"^model 'credit_default_model' has no version 9: its versions are 1, 2$"):
        diff(store, "1", "9", default_name=MODEL, gate_of=lambda info: None)
    with pytest.raises(CreditopsError, match=r"^no registered model named 'nope' in .*: the registered models are"):
        diff(store, "nope/1", "2", default_name=MODEL, gate_of=lambda info: None)


@pytest.mark.e2e
def test_the_latest_gate_decision_of_an_environment_is_read_and_rollbacks_are_not_decisions(
    context: Context, small_model: TrainedModel, tmp_path: Path
) -> None:
    # Given a version with a staging decision, a later prod decision and a rollback record after both
    store = Registry(context.store_uri)
    with Tracker(enabled=True, uri=context.store_uri).run("registered"):
        logged = registry.log_model(small_model)
    version = store.register(logged, MODEL, {})
    for at, env, payload in (
        ("2026-12-05T01:00:00+00:00", "staging", {"checks": [], "decision": "promoted"}),
        ("2026-12-05T02:00:00+00:00", "prod", {"checks": [], "decision": "awaiting-approval"}),
        ("2026-12-05T03:00:00+00:00", "prod", {"decision": "rolled-back"}),
    ):
        evidence.attach(store, tmp_path, version, {**payload, "environment": env, "decided_at": at})
    # Then the latest decision is prod's, staging's when asked for staging, and none in dev
    assert evidence.decision_of(store, version)["decision"] == "awaiting-approval"
    assert evidence.decision_of(store, version, "staging")["decision"] == "promoted"
    assert evidence.decision_of(store, version, "dev") is None
    # And its figures are what the comparison shows
    found = diff(store, "1", "1", default_name=MODEL, gate_of=lambda info: evidence.decision_of(store, info))
    assert found.a.gate == {
        "decision": "awaiting-approval",
        "environment": "prod",
        "decided_at": at.replace("03", "02"),
    }


def test_json_gives_metrics_as_numbers_and_null_where_a_version_has_no_value() -> None:
    a, b = _facts(), _facts(params={"train.num_leaves": "7"})
    found = compare(a, b).as_dict()
    assert all(isinstance(value, float) for value in found["a"]["metrics"].values())
    assert {"section": "params", "key": "train.num_leaves", "a": None, "b": "7"} in found["differences"]
    assert "—" not in json.dumps(found["differences"], ensure_ascii=False)
