"""A small portfolio with what UCI lacks: a text category and features with declared directions."""

import numpy as np
import pandas as pd
import pytest

from creditops.data.contract import Contract

SHOP_ROWS = 2_000


@pytest.fixture(scope="session")
def shop_contract() -> Contract:
    return Contract.model_validate(
        {
            "name": "shop",
            "label": {"column": "bad", "positive": "yes"},
            "columns": {
                "purpose": {"type": "category", "categories": ["car", "boat", "house", "travel"]},
                "utilisation": {"type": "number", "range": [0, 2], "monotone": "increasing", "missing": True},
                "tenure": {"type": "integer", "range": [0, 600], "monotone": "decreasing"},
                "income": {"type": "number", "range": [0, None]},
                "bad": {"role": "label", "type": "category", "categories": ["no", "yes"]},
            },
            "reasons": [
                {"code": "P1", "columns": ["purpose"], "text": "Purpose {purpose}"},
                {"code": "U1", "columns": ["utilisation", "tenure", "income"], "text": "Use of credit"},
            ],
        }
    )


@pytest.fixture(scope="session")
def shop_frame() -> pd.DataFrame:
    """Default rises with utilisation, falls with tenure, and is highest for boats (seeded)."""
    rng = np.random.default_rng(11)
    purpose = rng.choice(["car", "boat", "house", "travel"], size=SHOP_ROWS, p=[0.4, 0.15, 0.3, 0.15])
    utilisation = rng.uniform(0, 1.5, SHOP_ROWS)
    tenure = rng.integers(0, 240, SHOP_ROWS)
    income = rng.lognormal(10, 0.5, SHOP_ROWS)
    log_odds = -1.5 + 2.0 * utilisation - 0.01 * tenure + 1.0 * (purpose == "boat") - 0.5 * (purpose == "house")
    bad = rng.random(SHOP_ROWS) < 1 / (1 + np.exp(-log_odds))
    utilisation[rng.random(SHOP_ROWS) < 0.03] = np.nan
    return pd.DataFrame(
        {
            "purpose": purpose,
            "utilisation": utilisation,
            "tenure": tenure,
            "income": income,
            "bad": np.where(bad, "yes", "no"),
        }
    )
