"""The seeded, stratified train/test split: the same rows for the same seed, everywhere it is needed."""

import math
from typing import Final

import numpy as np
import pandas as pd

from creditops.errors import DataError

_GOLDEN: Final = np.uint64(0x9E3779B97F4A7C15)


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
    defaults = int((labels == 1).sum())
    require_enough_of_each(defaults, len(labels) - defaults, test_ratio, source)


def require_enough_of_each(defaults: int, others: int, test_ratio: float, source: str) -> None:
    """require_enough_rows from the counts of each class (as a cluster counts them)."""
    needed = rows_per_class(test_ratio)
    if min(defaults, others) < needed:
        raise DataError(
            f"{source} has {defaults + others:,} rows ({defaults:,} default(s), {others:,} non-default(s)):"
            " training needs"
            f" at least {needed} rows of each class ({2 * needed} in all) so that the stratified split"
            f" (test_train_ratio {test_ratio:g}) puts both classes in its training and its test part; use more data"
        )


def in_test_part(
    frame: pd.DataFrame, labels: np.ndarray, id_column: str | None, *, test_ratio: float, seed: int
) -> np.ndarray:
    """Which rows of `frame` the split of partitioned data puts in its test part: a row is in it when a
    seeded 64-bit hash of its class and its ID (of all its values where the contract has no ID column),
    read as a number in [0, 1), is below `test_ratio`.

    Each row is decided by itself, so the split is the same for any partitioning and any order of the
    rows, and a cluster computes it partition by partition without moving data. Within each class the
    expected share in the test part is `test_ratio` (stratified in expectation, not to the row as
    scikit-learn's split of one frame is). Integer IDs hash through splitmix64 alone, so the split does
    not depend on the pandas version; other IDs and whole rows through pandas' stable `hash_array`."""
    keys = seeded_hashes(frame, id_column, seed)
    with np.errstate(over="ignore"):
        mixed = _splitmix64(keys + np.asarray(labels, dtype=np.uint64) * _GOLDEN)
    uniform = (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return np.asarray(uniform < test_ratio)


def seeded_hashes(frame: pd.DataFrame, id_column: str | None, seed: int) -> np.ndarray:
    """A 64-bit hash of each row's ID (of all its values where there is no ID column) and `seed`, as
    unsigned integers spread evenly over their range: the same for a row wherever and with whatever rows
    it is computed."""
    keys: np.ndarray
    if id_column is not None:
        values = frame[id_column]
        if pd.api.types.is_integer_dtype(values):
            keys = values.to_numpy().astype(np.int64).view(np.uint64)
        else:
            keys = pd.util.hash_array(values.astype("string").to_numpy(dtype=object))
    else:
        keys = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    salt = _splitmix64(np.asarray([seed], dtype=np.int64).view(np.uint64))[0]
    return _splitmix64(keys ^ salt)


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on unsigned 64-bit integers (wrapping arithmetic): nearby keys spread over the
    whole range."""
    with np.errstate(over="ignore"):
        mixed = (values + _GOLDEN).astype(np.uint64)
        mixed = (mixed ^ (mixed >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        mixed = (mixed ^ (mixed >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return np.asarray(mixed ^ (mixed >> np.uint64(31)))
