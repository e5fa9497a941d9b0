"""The slices a model is judged on for fairness and stability: SEX, EDUCATION and AGE bands."""

from typing import Final

import numpy as np
import pandas as pd

SLICES: Final[dict[str, dict[str, tuple[int, ...]]]] = {
    "SEX": {"male": (1,), "female": (2,)},
    "EDUCATION": {"graduate school": (1,), "university": (2,), "high school": (3,), "other": (0, 4, 5, 6)},
}
AGE_BANDS: Final = {"21-29": (0, 29), "30-39": (30, 39), "40-49": (40, 49), "50+": (50, 200)}


def slice_masks(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Boolean row masks of the SEX, EDUCATION and AGE-band slices."""
    masks: dict[str, np.ndarray] = {}
    for column, groups in SLICES.items():
        for label, codes in groups.items():
            masks[f"{column}={label}"] = frame[column].isin(codes).to_numpy()
    for label, (low, high) in AGE_BANDS.items():
        masks[f"AGE={label}"] = frame["AGE"].between(low, high).to_numpy()
    return masks
