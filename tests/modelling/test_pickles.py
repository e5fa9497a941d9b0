"""Pickled models (the original train step's format), behind the opt-in: any that cannot load is one line, retrain."""

import pickle
import sys
from pathlib import Path

import joblib
import pytest
import sklearn

from creditops.data.contract import uci
from creditops.errors import CreditopsError
from creditops.modelling.estimators import TrainedModel
from creditops.modelling.serialization import load_model

RETRAIN = "retrain it with 'creditops run'"


def _refusal(path: Path) -> str:
    with pytest.raises(CreditopsError) as raised:
        load_model(path, uci(), allow_pickle=True)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path} is a pickle that this scikit-learn ({sklearn.__version__}) cannot load (")
    assert message.endswith(RETRAIN)
    return message


def test_a_pickle_naming_a_module_that_is_gone_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a pickle of a class from a module that exists when it is written (sklearn 0.24's _gb_losses, say)
    (tmp_path / "vanished_sklearn_module.py").write_text("class Loss:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import vanished_sklearn_module  # type: ignore[import-not-found]

    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"loss_": vanished_sklearn_module.Loss()}))
    # When the module is gone at load time
    monkeypatch.delitem(sys.modules, "vanished_sklearn_module")
    (tmp_path / "vanished_sklearn_module.py").unlink()
    # Then
    assert "ModuleNotFoundError: No module named 'vanished_sklearn_module'" in _refusal(path)


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_a_truncated_pickle_is_one_line(tmp_path: Path, small_sklearn_model: TrainedModel, dump: str) -> None:
    whole = tmp_path / "whole.pkl"
    if dump == "joblib":
        joblib.dump(small_sklearn_model.estimator, whole)
    else:
        whole.write_bytes(pickle.dumps(small_sklearn_model.estimator))
    path = tmp_path / "model.pkl"
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    _refusal(path)


def test_a_class_whose_state_no_longer_fits_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(_Stale()))
    assert "ValueError: node array from the pickle has an incompatible dtype" in _refusal(path)


class _Stale:
    """Stands for a Tree of another scikit-learn, whose __setstate__ refuses the arrays it is given."""

    def __init__(self) -> None:
        self.nodes = [(0, 1, 2)]

    def __setstate__(self, state: object) -> None:
        raise ValueError("node array from the pickle has an incompatible dtype")


def test_the_original_train_steps_joblib_model_loads_when_this_scikit_learn_can(
    tmp_path: Path, small_sklearn_model: TrainedModel
) -> None:
    path = tmp_path / "model.pkl"
    joblib.dump(small_sklearn_model.estimator, path)  # what the original train step wrote
    with pytest.warns(UserWarning, match="loaded the pickle"):
        loaded = load_model(path, uci(), allow_pickle=True)
    assert loaded.algorithm == "sklearn_gbm"


def test_without_the_opt_in_a_pickle_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(b"\x80\x04 truncated")
    with pytest.raises(CreditopsError, match="is a pickle, and loading a pickle runs the code it names"):
        load_model(path, uci())
