"""The seeded, stratified train/test split: the same rows for the same seed, everywhere it is needed."""

import pandas as pd

from creditops.data.schema import LABEL


def split(frame: pd.DataFrame, *, test_ratio: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A stratified train/test split of `frame`, the same for the same seed."""
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(frame, test_size=test_ratio, random_state=seed, stratify=frame[LABEL])
    return train.sort_index(), test.sort_index()
