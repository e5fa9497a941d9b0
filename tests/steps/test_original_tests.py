"""The original project's three unit tests, run unchanged through three shims on a fixture folder like theirs.

The fixture is made here as the original made it: the UCI Excel layout for data_prep, train/test CSVs as the
original data_prep wrote them (no ID column, no manifest), a pickled scikit-learn GBM and the original
config. Each test runs a script as a subprocess with the original flags and checks the exit code and files.
"""

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from sklearn.ensemble import GradientBoostingClassifier

from creditops.data.schema import COLUMNS, FEATURES, ID_COLUMN, LABEL
from creditops.data.synth import synthesize

pytestmark = pytest.mark.e2e
STEPS = ("data_prep", "train", "evaluate")
ORIGINAL_CONFIG = {
    "data": {
        "data_file": "credit_default_test.xlsx",
        "train_file": "train.csv",
        "test_file": "test.csv",
        "test_train_ratio": 0.25,
        "eval_file": "test.csv",
    },
    "train": {"n_estimators": 20, "learning_rate": 0.1},
    "model": {"model_file": "model.pkl", "model_name": "credit_default_model"},
    "eval": {
        "eval_file": "credit_default_eval.json",
        "eval_file_last_model": "credit_default_eval_last.json",
        "better_than_last_file": "better_than_last.txt",
    },
    "registry": {"model_name": "credit_default_model"},
}


def _uci_excel(frame: pd.DataFrame, path: Path) -> None:
    """The UCI file's layout: a row of X1…X23/Y codes above the real header."""
    book = Workbook()
    sheet = book.active
    sheet.append(["", *(f"X{i}" for i in range(1, len(FEATURES) + 1)), "Y"])
    sheet.append(list(COLUMNS))
    for row in frame[list(COLUMNS)].itertuples(index=False):
        sheet.append([int(value) for value in row])
    book.save(path)


@pytest.fixture(scope="module")
def original_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("original")
    (project / "src").mkdir()
    for step in STEPS:
        shim = f"import sys\n\nfrom creditops.steps.{step} import main\n\nsys.exit(main(sys.argv[1:]))\n"
        (project / "src" / f"{step}.py").write_text(shim)
    data, model = project / "tests" / "data", project / "tests" / "model"
    data.mkdir(parents=True)
    model.mkdir()
    frame = synthesize(400, 11)
    _uci_excel(frame, data / "credit_default_test.xlsx")
    original = frame.drop(columns=[ID_COLUMN])
    original.iloc[:300].to_csv(data / "train.csv", index=False)
    original.iloc[300:].to_csv(data / "test.csv", index=False)
    fitted = GradientBoostingClassifier(n_estimators=10, max_depth=3, random_state=0)
    fitted.fit(original.iloc[:300][list(FEATURES)], original.iloc[:300][LABEL])
    with (model / "model.pkl").open("wb") as stream:
        pickle.dump(fitted, stream)
    (project / "tests" / "modelling_test.json").write_text(json.dumps(ORIGINAL_CONFIG))
    return project


def _script(project: Path, step: str, *flags: str, allow_pickle: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CREDITOPS_WORKSPACE": str(project / ".creditops")}
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", None)
    if allow_pickle:
        env["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
    command = [sys.executable, f"src/{step}.py", *flags, "--config_file", "tests/modelling_test.json"]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)


def test_data_prep(original_project: Path) -> None:
    done = _script(original_project, "data_prep", "--data_input_dir", "tests/data", "--data_output_dir", "tests/out")
    assert done.returncode == 0, done.stderr
    assert (original_project / "tests" / "out" / "train.csv").is_file()
    assert (original_project / "tests" / "out" / "test.csv").is_file()


def test_train(original_project: Path) -> None:
    done = _script(original_project, "train", "--data_dir", "tests/data", "--model_dir", "tests/trained")
    assert done.returncode == 0, done.stderr
    assert (original_project / "tests" / "trained" / "model.pkl").is_file()


def test_evaluate(original_project: Path) -> None:
    flags = ("--data_dir", "tests/data", "--model_dir", "tests/model", "--eval_dir", "tests/eval")
    done = _script(original_project, "evaluate", *flags, allow_pickle=True)
    assert done.returncode == 0, done.stderr
    assert "loaded the pickle" in done.stderr
    evaluation = original_project / "tests" / "eval"
    assert (evaluation / "credit_default_eval.json").is_file()
    assert (evaluation / "better_than_last.txt").read_text() == "1"


def test_evaluate_refuses_a_pickle_without_the_opt_in_in_one_line(original_project: Path) -> None:
    flags = ("--data_dir", "tests/data", "--model_dir", "tests/model", "--eval_dir", "tests/refused")
    done = _script(original_project, "evaluate", *flags)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "is a pickle" in lines[0]
    assert "MLFLOW_ALLOW_PICKLE_DESERIALIZATION=true" in lines[0]
    assert "--allow-pickle" in lines[0]
    assert not (original_project / "tests" / "refused").exists()


def test_the_allow_pickle_flag_is_the_same_opt_in(original_project: Path) -> None:
    flags = ("--data_dir", "tests/data", "--model_dir", "tests/model", "--eval_dir", "tests/flagged")
    done = _script(original_project, "evaluate", *flags, "--allow-pickle")
    assert done.returncode == 0, done.stderr
    assert (original_project / "tests" / "flagged" / "credit_default_eval.json").is_file()


def test_evaluate_of_a_pickle_this_scikit_learn_cannot_load_is_one_line(original_project: Path) -> None:
    stale = original_project / "tests" / "stale_model"
    stale.mkdir()
    whole = (original_project / "tests" / "model" / "model.pkl").read_bytes()
    (stale / "model.pkl").write_bytes(whole.replace(b"sklearn.ensemble", b"sklearn.ensemblX"))  # a module now gone
    flags = ("--data_dir", "tests/data", "--model_dir", "tests/stale_model", "--eval_dir", "tests/stale_eval")
    done = _script(original_project, "evaluate", *flags, allow_pickle=True)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "model.pkl is a pickle that this scikit-learn" in lines[0]
    assert "ModuleNotFoundError: No module named 'sklearn.ensemblX'" in lines[0]
    assert lines[0].endswith("retrain it with 'creditops run'")
    assert not (original_project / "tests" / "stale_eval").exists()
