"""The seeded, stratified train/test split: the same rows for the same seed, everywhere it is needed."""

import math

import numpy as np
import pandas as pd

from creditops.errors import DataError


def split(
    frame: pd.DataFrame, labels: np.ndarray, *, test_ratio: float, seed: int, source: str = "the data"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A split of `frame` stratified on its `labels` (1: default), the same for the same seed, each part in
    index order.

    The rows are chosen by position and each part is copied once, in order: splitting the frame itself
    and sorting after held three copies of the data at once (10 M rows: 2 GB each)."""
    from sklearn.model_selection import train_test_split

    require_enough_rows(labels, test_ratio, source)
    train, test = train_test_split(np.arange(len(frame)), test_size=test_ratio, random_state=seed, stratify=labels)
    if frame.index.is_monotonic_increasing:
        return frame.take(np.sort(train)), frame.take(np.sort(test))
    return frame.take(train).sort_index(), frame.take(test).sort_index()


def rows_per_class(test_ratio: float) -> int:
    """The fewest rows of each class that put at least one in each part of the split, whatever the other
    class's count. scikit-learn gives the test part ceil(ratio·n) rows and each class the floor or the
    ceiling of its share of them, so `1/ratio` rows of a class put one in the test part, and `2/(1-ratio)`
    leave one in the training part after that rounding."""
    return max(math.ceil(1 / test_ratio - 1e-9), math.ceil(2 / (1 - test_ratio) - 1e-9))


def require_enough_rows(labels: np.ndarray, test_ratio: float, source: str) -> None:
    """Refuse, in one line, data too small to train and evaluate on: with fewer rows of a class the split
    fails (or leaves a part with one class, where a model cannot learn or ROC AUC is undefined)."""
    needed = rows_per_class(test_ratio)
    defaults = int((labels == 1).sum())
    others = len(labels) - defaults
    if min(defaults, others) < needed:
        raise DataError(
            f"{source} has {len(labels):,} rows ({defaults:,} default(s), {others:,} non-default(s)): training needs"
            f" at least {needed} rows of each class ({2 * needed} in all) so that the stratified split"
            f" (test_train_ratio {test_ratio:g}) puts both classes in its training and its test part; use more data"
        )
