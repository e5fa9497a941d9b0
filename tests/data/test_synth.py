import numpy as np
import pandas as pd
import pytest

from creditops.data.checks import check_data
from creditops.data.contract import uci
from creditops.data.schema import BILL_AMOUNTS, COLUMNS, FEATURES, ID_COLUMN, LABEL, OBSERVED_ON, PAY_AMOUNTS
from creditops.data.synth import split_outcomes, synthesize


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return synthesize(20_000, 11)


def test_same_seed_gives_the_same_data() -> None:
    pd.testing.assert_frame_equal(synthesize(500, 3), synthesize(500, 3))


def test_other_seed_gives_other_data() -> None:
    assert not synthesize(500, 3).equals(synthesize(500, 4))


def test_has_exactly_the_uci_columns_as_integers(frame: pd.DataFrame) -> None:
    assert tuple(frame.columns) == COLUMNS
    assert all(dtype == np.int64 for dtype in frame.dtypes)


def test_passes_every_data_check(frame: pd.DataFrame) -> None:
    assert check_data(frame, uci()) == ()


def test_default_rate_is_realistic(frame: pd.DataFrame) -> None:
    assert 0.19 < frame[LABEL].mean() < 0.25


def test_default_rate_rises_steeply_with_delinquency(frame: pd.DataFrame) -> None:
    rate = frame.groupby("PAY_0")[LABEL].mean()
    assert rate[0] < 0.2
    assert rate[1] > 1.8 * rate[0]
    assert rate[2] > rate[1] > rate[0]
    assert rate[2] > 0.5


def test_marginals_match_the_published_sample(frame: pd.DataFrame) -> None:
    # figures of the UCI sample: median limit 140,000; median age 33; about 47 % revolving in PAY_0
    assert frame["LIMIT_BAL"].median() == pytest.approx(140_000, rel=0.1)
    assert frame["AGE"].median() == pytest.approx(33, abs=1.5)
    assert (frame["PAY_0"] == 0).mean() == pytest.approx(0.473, abs=0.03)
    assert frame["SEX"].value_counts(normalize=True)[2] == pytest.approx(0.6, abs=0.03)


def test_repayment_status_is_persistent_over_months(frame: pd.DataFrame) -> None:
    correlation = frame[["PAY_0", "PAY_2", "PAY_6"]].corr()
    assert correlation.loc["PAY_0", "PAY_2"] > 0.4
    assert correlation.loc["PAY_0", "PAY_2"] > correlation.loc["PAY_0", "PAY_6"]


def test_bills_are_coherent_over_months(frame: pd.DataFrame) -> None:
    bills = frame[list(BILL_AMOUNTS)]
    assert bills.corr().loc["BILL_AMT1", "BILL_AMT2"] > 0.85
    assert (bills.max(axis=1) <= frame["LIMIT_BAL"] * 1.1 + 1).all()
    assert (frame[list(PAY_AMOUNTS)] >= 0).all().all()


def test_delinquency_drift_raises_late_payments_and_defaults() -> None:
    base, drifted = synthesize(5_000, 5), synthesize(5_000, 5, "delinquency")
    assert (drifted["PAY_0"] >= 1).mean() > (base["PAY_0"] >= 1).mean() + 0.1
    assert drifted[LABEL].mean() > base[LABEL].mean()


def test_limits_drift_lowers_credit_limits() -> None:
    base, drifted = synthesize(5_000, 5), synthesize(5_000, 5, "limits")
    assert drifted["LIMIT_BAL"].median() < 0.7 * base["LIMIT_BAL"].median()


def test_concept_drift_keeps_the_customers_and_changes_who_defaults() -> None:
    from sklearn.metrics import roc_auc_score

    base, drifted = synthesize(20_000, 5), synthesize(20_000, 5, "concept")
    pd.testing.assert_frame_equal(base[list(FEATURES)], drifted[list(FEATURES)])  # nothing for drift to see
    assert 0.18 < drifted[LABEL].mean() < 0.28
    late = base["PAY_0"].clip(-2, 4)
    assert roc_auc_score(base[LABEL], late) > roc_auc_score(drifted[LABEL], late) + 0.1  # lateness predicts less
    assert roc_auc_score(drifted[LABEL], -base["LIMIT_BAL"]) > roc_auc_score(base[LABEL], -base["LIMIT_BAL"]) + 0.1


def test_outcomes_are_split_from_the_rows_to_score_and_ids_can_start_anywhere() -> None:
    frame = synthesize(50, 3, first_id=1_001)
    assert frame[ID_COLUMN].tolist() == list(range(1_001, 1_051))
    scored, outcomes = split_outcomes(frame, "2026-11-30")
    assert list(scored.columns) == [ID_COLUMN, *FEATURES]
    assert list(outcomes.columns) == [ID_COLUMN, LABEL, OBSERVED_ON]
    assert outcomes[LABEL].tolist() == frame[LABEL].tolist()
    assert (outcomes[OBSERVED_ON] == "2026-11-30").all()


def test_rejects_zero_rows() -> None:
    with pytest.raises(ValueError, match="rows"):
        synthesize(0, 1)


def test_a_portfolio_larger_than_a_chunk_is_drawn_chunk_by_chunk() -> None:
    from creditops.data.synth import synthesize_chunks

    (whole,) = synthesize_chunks(900, 4, chunk_rows=1_000)
    pd.testing.assert_frame_equal(whole, synthesize(900, 4))  # up to a chunk: the same data as before
    chunks = list(synthesize_chunks(2_500, 4, "limits", first_id=11, chunk_rows=1_000))
    assert [len(chunk) for chunk in chunks] == [1_000, 1_000, 500]
    joined = pd.concat(chunks, ignore_index=True)
    assert joined[ID_COLUMN].tolist() == list(range(11, 2_511))
    assert not chunks[0][list(FEATURES)].equals(chunks[1][list(FEATURES)].set_axis(chunks[0].index))
    again = pd.concat(synthesize_chunks(2_500, 4, "limits", first_id=11, chunk_rows=1_000), ignore_index=True)
    pd.testing.assert_frame_equal(joined, again)
    assert not check_data(joined, uci())
