"""The fairness check's words and figures: what it says for a contract without protected columns, a holdout
without them, groups too small to judge, and which column it names as the lowest and the widest."""

import numpy as np
import pandas as pd

from creditops.config.environments import GateSettings
from creditops.data.contract import Contract
from creditops.gate.checks import Check, _shown, fairness_check

LIMITS = GateSettings(min_group_rows=20)


def _contract(protected: dict[str, dict]) -> Contract:
    return Contract.model_validate(
        {
            "name": "shop",
            "label": {"column": "bad", "positive": 1},
            "columns": {
                "x": {"type": "number"},
                **{name: {"role": "protected", **column} for name, column in protected.items()},
                "bad": {"role": "label", "type": "category", "categories": [0, 1]},
            },
        }
    )


TWO = {"type": "category", "categories": ["a", "b"]}


def _holdout(rows: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.tile([0, 1], rows // 2)
    probability = np.where(labels == 1, 0.7, 0.2) + rng.uniform(-0.05, 0.05, rows)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=rows),
            "g": np.repeat(["a", "b"], rows // 2),
            "h": np.tile(["a", "a", "b", "b"], rows // 4),
            "bad": labels,
        }
    )
    return frame, labels, probability


def test_without_protected_columns_there_is_nothing_to_measure() -> None:
    frame, labels, probability = _holdout(40)
    check = fairness_check(frame, labels, probability, 0.5, LIMITS, _contract({}))
    assert check == Check("fairness", "pass", "no protected columns in the contract")


def test_a_holdout_without_the_protected_columns_fails_naming_them() -> None:
    frame, labels, probability = _holdout(40)
    check = fairness_check(
        frame.drop(columns=["g", "h"]), labels, probability, 0.5, LIMITS, _contract({"g": TWO, "h": TWO})
    )
    assert (check.name, check.verdict) == ("fairness", "fail")
    assert check.detail == "protected column(s) g, h not in the holdout: fairness cannot be measured"


def test_the_summary_names_the_lowest_ratio_the_widest_gap_and_what_was_too_small() -> None:
    frame, labels, probability = _holdout(80)
    frame["small"] = "a"
    frame.loc[:4, "small"] = "b"  # 5 rows: under min_group_rows
    check = fairness_check(frame, labels, probability, 0.5, LIMITS, _contract({"g": TWO, "h": TWO, "small": TWO}))
    assert (check.name, check.verdict) == ("fairness", "pass")
    assert check.detail.startswith("lowest adverse impact ratio ")
    assert " ≥ 0.8, largest equalized odds difference " in check.detail
    assert check.detail.endswith(" ≤ 0.2; small not judged (fewer than two groups of 20+ rows with both outcomes)")
    figures = check.data["columns"]
    lowest = min(("g", "h"), key=lambda name: figures[name]["adverse_impact_ratio"])
    widest = max(("g", "h"), key=lambda name: figures[name]["equalized_odds_difference"])
    assert f"({lowest}) ≥" in check.detail
    assert f"({widest}) ≤" in check.detail
    every = fairness_check(frame, labels, probability, 0.5, LIMITS, _contract({"g": TWO, "h": TWO}))
    assert "not judged" not in every.detail


def test_two_decimals_unless_they_would_round_onto_the_limit() -> None:
    assert _shown(0.7912, 0.8) == "0.79"
    assert _shown(0.7999, 0.8) == "0.7999"
    assert _shown(0.79999999, 0.8) == "0.79999999" or _shown(0.79999999, 0.8) == repr(0.79999999)
    assert _shown(0.8 - 1e-12, 0.8) == repr(0.8 - 1e-12)
