"""The reviewer's Markdown summary of a gate decision, rendered from a hand-built evidence record."""

from typing import Any

from creditops.gate.summary import CardPlace, cell, render


def record(**changes: Any) -> dict[str, Any]:
    made: dict[str, Any] = {
        "model_name": "credit_default_model",
        "model_version": "3",
        "environment": "prod",
        "decision": "awaiting-approval",
        "reason": "the environment requires an approval",
        "git_commit": "0123abc",
        "mode": "enabled",
        "approver": None,
        "decided_at": "2024-05-02T09:12:03+00:00",
        "checks": [
            {"name": "minimum_roc_auc", "verdict": "pass", "detail": "ROC AUC 0.7712 ≥ 0.6", "data": {}},
            {
                "name": "slices",
                "verdict": "fail",
                "detail": "over the 0.02 tolerance: age|young loses 0.0300",
                "data": {
                    "age|young": {"rows": 120, "judged": True, "candidate": 0.70, "champion": 0.73, "drop": 0.03},
                    "tiny": {"rows": 8, "judged": False},
                },
            },
            {
                "name": "fairness",
                "verdict": "pass",
                "detail": "lowest adverse impact ratio 0.91 (SEX) ≥ 0.8",
                "data": {
                    "threshold": 0.5,
                    "min_group_rows": 30,
                    "min_adverse_impact_ratio": 0.8,
                    "max_equalized_odds_difference": 0.1,
                    "columns": {
                        "SEX": {
                            "adverse_impact_ratio": 0.91,
                            "approval_gap": {"low_group": "male", "low": 0.8, "high_group": "female", "high": 0.88},
                            "equalized_odds_difference": 0.04,
                            "odds_rate": "TPR",
                        }
                    },
                },
            },
            {"name": "approval", "verdict": "pending", "detail": "awaiting a person's approval", "data": {}},
        ],
        "candidate": {"roc_auc": 0.7712, "roc_auc_ci": {"mean": 0.77, "low": 0.7601, "high": 0.7820}},
        "champion": {
            "version": "2",
            "roc_auc": 0.7650,
            "roc_auc_ci": {"mean": 0.765, "low": 0.7540, "high": 0.7760},
            "difference_ci": {"mean": 0.0062, "low": -0.0040, "high": 0.0160},
        },
    }
    made.update(changes)
    return made


def test_headline_and_the_checks_table() -> None:
    text = render(record())

    assert text.startswith("## Gate decision: credit_default_model v3 in prod: awaiting-approval\n")
    assert "**Reason:** the environment requires an approval" in text
    assert "| verdict | check | detail |\n|---|---|---|\n| pass | minimum_roc_auc | ROC AUC 0.7712 ≥ 0.6 |\n" in text
    assert "| **FAIL** | slices | over the 0.02 tolerance: age\\|young loses 0.0300 |" in text
    assert "| pending | approval | awaiting a person's approval |" in text


def test_metrics_with_intervals_against_the_champion() -> None:
    text = render(record())

    assert "| candidate v3 | 0.7712 | 0.7601 … 0.7820 |" in text
    assert "| champion v2 | 0.7650 | 0.7540 … 0.7760 |" in text
    assert "| candidate − champion | +0.0062 | -0.0040 … +0.0160 |" in text


def test_a_first_model_says_there_is_no_champion() -> None:
    text = render(record(champion=None, candidate={"roc_auc": 0.8}))

    assert "| candidate v3 | 0.8000 | — |" in text
    assert "| champion | none | first model: nothing to compare |" in text


def test_slices_and_fairness_rows() -> None:
    text = render(record())

    assert "| age\\|young | 120 | 0.7000 | 0.7300 | +0.0300 |" in text
    assert "| tiny | 8 | not judged | — | — |" in text
    assert "| SEX | 0.9100 | male 0.8000 / female 0.8800 | 0.0400 (TPR) |" in text
    assert "adverse impact ratio ≥ 0.8, equalized odds difference ≤ 0.1" in text


def test_sections_without_data_are_left_out_and_the_card_is_located() -> None:
    bare = record(checks=[{"name": "approval", "verdict": "pass", "detail": "approved by ana"}], candidate={})
    card = CardPlace(file="/w/reports/m-v3.html", run_id="abc123", artifact="report/m-v3.html")

    text = render(bare, card)

    assert "### Slices" not in text
    assert "### Fairness" not in text
    assert "### ROC AUC" not in text
    assert text.endswith(
        "### Model card\n\n- file: `/w/reports/m-v3.html`\n- MLflow run `abc123`, artifact `report/m-v3.html`\n"
    )


def test_every_table_row_has_the_header_s_number_of_cells() -> None:
    for block in render(record(reason="a | b\nc")).split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        counts = {len(line.replace("\\|", "").split("|")) for line in rows}
        assert len(counts) <= 1, block


def test_cell_escapes_pipes_and_joins_lines() -> None:
    assert cell("a|b\nc") == "a\\|b c"
    assert cell("") == " "
