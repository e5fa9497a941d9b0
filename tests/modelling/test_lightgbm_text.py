"""A LightGBM text model cut or edited anywhere in its trees is refused in one line, before LightGBM
(which aborts the process on it) reads it."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditops.errors import CreditopsError
from creditops.modelling.estimators import TrainedModel
from creditops.modelling.lightgbm_text import problem, read_booster


@pytest.fixture(scope="module")
def model_text(small_model: TrainedModel) -> bytes:
    return str(small_model.estimator.model_to_string()).encode()


def test_a_whole_model_reads_and_predicts_as_saved(small_model: TrainedModel, tmp_path: Path) -> None:
    path = tmp_path / "model.lgb"
    small_model.estimator.save_model(str(path))
    assert problem(path.read_bytes()) is None
    assert read_booster(path).num_trees() == small_model.estimator.num_trees()


@settings(max_examples=60, deadline=None)
@given(cut=st.floats(0.0, 1.0, exclude_max=True))
def test_any_cut_before_the_end_of_the_trees_is_refused(model_text: bytes, cut: float) -> None:
    end = model_text.index(b"end of trees")
    assert problem(model_text[: int(cut * end)]) is not None


@settings(max_examples=40, deadline=None)
@given(position=st.integers(0, 10**9), byte=st.integers(0, 255))
def test_a_byte_added_inside_the_trees_is_refused(model_text: bytes, position: int, byte: int) -> None:
    start, end = model_text.index(b"\nTree=") + 1, model_text.index(b"end of trees")
    at = start + position % (end - start)
    assert problem(model_text[:at] + bytes([byte]) + model_text[at:]) is not None


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "not a LightGBM text model"),
        (b"garbage\x00\x01", "not a LightGBM text model"),
        (b"tree\nversion=v4\n\nTree=0\nnum_leaves=2\n", "declares no tree sizes"),
        (b"tree\ntree_sizes=12 x\n\nTree=0\n", "not numbers"),
    ],
)
def test_files_that_are_no_model_are_one_line(tmp_path: Path, content: bytes, said: str) -> None:
    path = tmp_path / "model.lgb"
    path.write_bytes(content)
    with pytest.raises(CreditopsError, match=said) as refused:
        read_booster(path)
    assert "\n" not in str(refused.value)


def test_a_cut_model_file_is_one_line_naming_it(model_text: bytes, tmp_path: Path) -> None:
    path = tmp_path / "model.lgb"
    path.write_bytes(model_text[: len(model_text) // 3])
    with pytest.raises(CreditopsError, match=rf"model file {path} cannot be loaded: .*cut or edited"):
        read_booster(path)
