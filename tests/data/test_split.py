"""The seeded, stratified split: the same rows as scikit-learn splitting the frame itself, in index order."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from creditops.data.schema import LABEL
from creditops.data.split import split


@pytest.mark.parametrize("order", ["range", "reversed", "shuffled"])
def test_the_split_is_scikit_learns_on_the_frame_sorted_by_index(small_frame: pd.DataFrame, order: str) -> None:
    frame = {
        "range": small_frame,
        "reversed": small_frame.iloc[::-1],
        "shuffled": small_frame.set_axis(np.random.default_rng(1).permutation(len(small_frame))),
    }[order]
    train, test = split(frame, test_ratio=0.25, seed=7)
    expected = train_test_split(frame, test_size=0.25, random_state=7, stratify=frame[LABEL])
    pd.testing.assert_frame_equal(train, expected[0].sort_index())
    pd.testing.assert_frame_equal(test, expected[1].sort_index())
    assert abs(train[LABEL].mean() - test[LABEL].mean()) < 0.02
