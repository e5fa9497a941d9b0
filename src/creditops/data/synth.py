"""Synthetic credit-card clients with the UCI schema, realistic marginals and a learnable default signal.

Each customer has a latent risk. Repayment status is an autoregressive walk over the six months (oldest
first) pulled by that risk; bills and payments follow the status month by month (paid in full, revolving,
or delayed with interest), so the six months stay coherent. Default depends steeply on the latest status,
on past delays, utilisation and repayment, plus a part of the risk no column shows. Marginals were fitted
to the published sample's quantiles and code frequencies.
"""

from collections.abc import Iterator
from typing import Final, Literal

import numpy as np
import pandas as pd

from creditops.data.schema import BILL_AMOUNTS, COLUMNS, ID_COLUMN, LABEL, OBSERVED_ON, PAY_AMOUNTS, PAY_STATUS

DriftKind = Literal["none", "delinquency", "limits", "concept"]
DRIFT_KINDS: Final[tuple[str, ...]] = ("none", "delinquency", "limits", "concept")
"""delinquency: more late payers; limits: lower limits; concept: the same customers, but whether they
default depends less on what the columns show and more on what they do not (no input drift to see:
only outcomes reveal it)."""

_DEFAULT_INTERCEPT: Final = -1.50
"""Log-odds offset that gives the full UCI data set's 22.12 % default rate on undrifted data."""

_SEX_SHARES: Final = {1: 0.40, 2: 0.60}
_EDUCATION_SHARES: Final = {
    0: 0.0005,
    1: 0.353,
    2: 0.4675,
    3: 0.164,
    4: 0.004,
    5: 0.0093,
    6: 0.0017,
}
_LIMIT_QUANTILES: Final = (
    (0.0, 10_000),
    (0.01, 10_000),
    (0.10, 30_000),
    (0.25, 50_000),
    (0.50, 140_000),
    (0.75, 240_000),
    (0.90, 360_000),
    (0.99, 500_000),
    (1.0, 800_000),
)
_AGE_QUANTILES: Final = (
    (0.0, 21),
    (0.01, 22),
    (0.10, 24),
    (0.25, 28),
    (0.50, 33),
    (0.75, 41),
    (0.90, 49),
    (0.99, 58),
    (1.0, 75),
)
_LATEST_STATUS_SHARES: Final = (0.079, 0.214, 0.473, 0.136, 0.084, 0.006, 0.004)
_OLDER_STATUS_SHARES: Final = (0.15, 0.205, 0.525, 0.0, 0.105, 0.006, 0.003)
"""Shares of the codes -2, -1, 0, 1, 2, 3, 4 (the rest is 5 and deeper) in the latest and older months."""
_PAY0_LOG_ODDS: Final = {-2: -0.35, -1: -0.2, 0: -0.7, 1: 0.45, 2: 1.2, 3: 1.3, 4: 1.4}
_MONTHLY_INTEREST: Final = 0.018
_CONCEPT_SHIFT: Final = -0.9
"""Concept drift's re-centring: the default rate stays near the undrifted 22 %."""


def synthesize(
    rows: int, seed: int | np.random.SeedSequence, drift: DriftKind = "none", first_id: int = 1
) -> pd.DataFrame:
    """A data frame of `rows` synthetic customers in the UCI column order, deterministic for `seed`,
    numbered from `first_id`."""
    if rows < 1:
        raise ValueError("rows must be at least 1")
    rng = np.random.default_rng(seed)
    sex = _draw_codes(rng, _SEX_SHARES, rows)
    education = _draw_codes(rng, _EDUCATION_SHARES, rows)
    risk = 0.97 * rng.standard_normal(rows) + 0.25 * (np.clip(education, 1, 4) - 1.8) / 0.75
    age, age_score = _draw_age(rng, rows)
    marriage = _draw_marriage(rng, age)
    limit = _draw_limit(rng, risk, age_score, education, drift)
    status = _draw_status(rng, risk, drift)
    utilisation = _draw_utilisation(rng, risk, status)
    bills, payments = _draw_bills_and_payments(rng, limit, status, utilisation)
    label = _draw_default(rng, risk, status, bills, payments, limit, sex, age, drift)

    columns: dict[str, np.ndarray] = {
        ID_COLUMN: np.arange(first_id, first_id + rows),
        "LIMIT_BAL": limit,
        "SEX": sex,
        "EDUCATION": education,
        "MARRIAGE": marriage,
        "AGE": age,
    }
    for month, name in enumerate(PAY_STATUS):
        columns[name] = status[:, month]
    for month, name in enumerate(BILL_AMOUNTS):
        columns[name] = bills[:, month]
    for month, name in enumerate(PAY_AMOUNTS):
        columns[name] = payments[:, month]
    columns[LABEL] = label
    frame = pd.DataFrame(columns, columns=list(COLUMNS))
    return frame.astype("int64")


CHUNK_ROWS: Final = 1_000_000
"""Customers drawn at a time by `synthesize_chunks`: memory stays near 0.5 GB at any size."""


def synthesize_chunks(
    rows: int, seed: int, drift: DriftKind = "none", first_id: int = 1, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """`rows` customers as frames of at most `chunk_rows`, for portfolios too large to draw at once. Up to
    `chunk_rows` it is `synthesize(rows, seed, ...)` itself; above, each chunk draws from its own child of
    the seed (numpy's SeedSequence.spawn: independent streams), so the data depend on the chunk size."""
    if rows <= chunk_rows:
        yield synthesize(rows, seed, drift, first_id)
        return
    streams = np.random.SeedSequence(seed).spawn(-(-rows // chunk_rows))
    for number, stream in enumerate(streams):
        start = number * chunk_rows
        yield synthesize(min(chunk_rows, rows - start), stream, drift, first_id + start)


def split_outcomes(frame: pd.DataFrame, observed_on: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows to score (ID and features, no label) and their outcomes as observed later (ID, label, date):
    the generator drew each label from the customer's true risk, so these are the outcomes that follow."""
    scored = frame.drop(columns=[LABEL])
    outcomes = frame[[ID_COLUMN, LABEL]].assign(**{OBSERVED_ON: observed_on})
    return scored, outcomes


def _draw_codes(rng: np.random.Generator, shares: dict[int, float], rows: int) -> np.ndarray:
    codes = np.array(list(shares))
    weights = np.array(list(shares.values()))
    return rng.choice(codes, size=rows, p=weights / weights.sum())


def _draw_age(rng: np.random.Generator, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Ages from the sample's quantiles, and the standard-normal score they were drawn from."""
    score = rng.standard_normal(rows)
    age = np.rint(_from_quantiles(_normal_cdf(score), _AGE_QUANTILES)).astype(np.int64)
    return age, score


def _draw_marriage(rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
    married_probability = np.clip(0.1 + 0.028 * (age - 21), 0.1, 0.8)
    draw = rng.random(age.size)
    marriage = np.where(draw < married_probability, 1, 2)
    other = rng.random(age.size)
    marriage = np.where(other < 0.011 + 0.0006 * (age - 21), 3, marriage)
    return np.where(other > 0.9982, 0, marriage)


def _draw_limit(
    rng: np.random.Generator,
    risk: np.ndarray,
    age_score: np.ndarray,
    education: np.ndarray,
    drift: DriftKind,
) -> np.ndarray:
    education_score = -(np.clip(education, 1, 4) - 1.8) / 0.75
    weights = (0.30, 0.22, 0.22)
    noise = np.sqrt(1 - sum(w * w for w in weights)) * rng.standard_normal(risk.size)
    latent = -weights[0] * risk + weights[1] * age_score + weights[2] * education_score + noise
    limit = _from_quantiles(_normal_cdf(latent / np.std(latent)), _LIMIT_QUANTILES)
    if drift == "limits":
        limit = limit * 0.55
    return np.asarray(np.maximum(10_000, np.rint(limit / 10_000) * 10_000), dtype=np.int64)


def _draw_status(rng: np.random.Generator, risk: np.ndarray, drift: DriftKind) -> np.ndarray:
    """Repayment status per month, columns ordered PAY_0 (latest) … PAY_6 (oldest).

    Cut points come from the undrifted latent walk, so delinquency drift moves customers across
    them instead of being calibrated away.
    """
    rows, months = risk.size, len(PAY_STATUS)
    persistence = 0.75
    latent = np.empty((rows, months))
    walk = 0.8 * rng.standard_normal(rows) + 0.6 * risk
    for month in reversed(range(months)):
        walk = persistence * walk + np.sqrt(1 - persistence**2) * rng.standard_normal(rows)
        latent[:, month] = 0.75 * walk + 0.3 * risk
    shift = 0.45 if drift == "delinquency" else 0.0
    codes = np.empty((rows, months), dtype=np.int64)
    for month in range(months):
        shares = _LATEST_STATUS_SHARES if month == 0 else _OLDER_STATUS_SHARES
        cuts = np.quantile(latent[:, month], np.cumsum(shares))
        codes[:, month] = np.searchsorted(cuts, latent[:, month] + shift) - 2
    deep = codes >= 5
    codes[deep] = np.minimum(5 + rng.geometric(0.5, size=int(deep.sum())) - 1, 8)
    return codes


def _draw_utilisation(rng: np.random.Generator, risk: np.ndarray, status: np.ndarray) -> np.ndarray:
    delinquent_share = (status >= 1).mean(axis=1)
    mean = np.clip(0.30 + 0.12 * risk + 0.35 * delinquent_share, 0.03, 0.95)
    concentration = 2.2
    return np.asarray(rng.beta(mean * concentration, (1 - mean) * concentration))


def _draw_bills_and_payments(
    rng: np.random.Generator,
    limit: np.ndarray,
    status: np.ndarray,
    utilisation: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Bills and payments month by month from the oldest; columns ordered month 1 (latest) … 6.

    The payment of a month settles (part of) the previous month's bill, as in the UCI data.
    """
    rows, months = status.shape
    bills = np.zeros((rows, months))
    payments = np.zeros((rows, months))
    balance = limit * utilisation * rng.uniform(0.6, 1.0, rows)
    balance = np.where(status[:, -1] == -2, 0.0, balance)
    capacity = rng.lognormal(0.0, 0.7, rows)
    for month in reversed(range(months)):
        code = status[:, month]
        revolving_share = np.clip(rng.beta(1.0, 18.0, rows) * capacity + 0.01, 0.01, 1.0)
        delayed_share = np.where(rng.random(rows) < 0.6, 0.0, rng.uniform(0.01, 0.06, rows))
        paid_share = np.select(
            [code == -2, code == -1, code == 0],
            [np.ones(rows), rng.uniform(0.98, 1.02, rows), revolving_share],
            default=delayed_share,
        )
        payment = np.maximum(balance, 0) * paid_share
        payment = np.where(
            (code == -2) & (balance <= 0),
            rng.lognormal(6.5, 1.5, rows) * capacity * (rng.random(rows) < 0.3),
            payment,
        )
        spend = limit * utilisation * rng.lognormal(-2.2, 1.0, rows)
        spend = np.where(code == -1, limit * rng.lognormal(-3.4, 1.3, rows), spend)
        spend = np.where(code == -2, 0.0, np.where(code >= 1, spend * 0.3, spend))
        interest = np.where(code >= 0, np.maximum(balance - payment, 0) * _MONTHLY_INTEREST, 0.0)
        balance = balance - payment + spend + interest
        balance = np.where((code == -2) & (rng.random(rows) < 0.8), 0.0, balance)
        balance = np.minimum(balance, limit * rng.uniform(1.0, 1.1, rows))
        bills[:, month] = balance
        payments[:, month] = payment
    overpaid = rng.random(bills.shape) < 0.012
    bills = np.where(overpaid, -rng.lognormal(5.5, 1.2, bills.shape), bills)
    return np.rint(bills).astype(np.int64), np.rint(np.maximum(payments, 0)).astype(np.int64)


def _draw_default(
    rng: np.random.Generator,
    risk: np.ndarray,
    status: np.ndarray,
    bills: np.ndarray,
    payments: np.ndarray,
    limit: np.ndarray,
    sex: np.ndarray,
    age: np.ndarray,
    drift: DriftKind = "none",
) -> np.ndarray:
    latest = np.clip(status[:, 0], -2, 4)
    lookup = np.vectorize(_PAY0_LOG_ODDS.__getitem__)
    log_odds = lookup(latest).astype(float)
    past_delays = (np.clip(status[:, 1:], 0, 4)).mean(axis=1)
    utilisation = np.clip(bills[:, 0] / limit, -0.1, 1.2)
    repaid = payments.sum(axis=1) / np.maximum(bills.sum(axis=1), 1_000)
    log_odds += 0.25 * past_delays
    log_odds += 0.55 * utilisation
    log_odds -= 0.35 * np.clip(repaid, 0, 2)
    log_odds -= 0.18 * np.log(limit / 140_000)
    log_odds += 0.12 * (sex == 1) + 0.006 * (age - 35)
    log_odds += 0.45 * risk
    if drift == "concept":  # late payment hardly matters any more; a low limit and youth do
        log_odds = 0.05 * log_odds - 1.8 * np.log(limit / 140_000) - 0.09 * (age - 35) + _CONCEPT_SHIFT
    probability = 1 / (1 + np.exp(-(log_odds + _DEFAULT_INTERCEPT)))
    return np.asarray(rng.random(risk.size) < probability, dtype=np.int64)


def _from_quantiles(probability: np.ndarray, quantiles: tuple[tuple[float, int], ...]) -> np.ndarray:
    """Values of a distribution given by quantile points, at the given cumulative probabilities."""
    probs, values = zip(*quantiles, strict=True)
    return np.asarray(np.interp(probability, probs, values))


def _normal_cdf(values: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return np.asarray(ndtr(values))
