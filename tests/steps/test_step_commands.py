"""The four steps through their real command lines, with the original scripts' flags."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from creditops.steps import data_prep, evaluate, register, train

pytestmark = pytest.mark.e2e
REPO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "modelling.json"


def _config(tmp_path: Path, **overrides: dict) -> Path:
    payload = json.loads(REPO_CONFIG.read_text())
    payload["data"]["data_file"] = "credit_default.csv"
    payload["train"]["n_estimators"] = 20
    for section, values in overrides.items():
        payload[section].update(values)
    path = tmp_path / "modelling.json"
    path.write_text(json.dumps(payload))
    (tmp_path / "schema.yaml").write_text((REPO_CONFIG.parent / "schema.yaml").read_text())
    return path


def _run(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *arguments], cwd=cwd, capture_output=True, text=True, env=os.environ.copy()
    )


def test_the_four_steps_run_as_separate_processes(workspace: Path, data_file: Path, tmp_path: Path) -> None:
    config = str(_config(tmp_path))
    prep = _run(
        "creditops.steps.data_prep",
        *("--data_input_dir", str(data_file.parent), "--data_output_dir", "prepared"),
        *("--config_file", config),
        cwd=tmp_path,
    )
    assert prep.returncode == 0, prep.stderr
    assert {"train.csv", "test.csv"} <= {p.name for p in (tmp_path / "prepared").iterdir()}

    fit = _run(
        "creditops.steps.train",
        *("--data_dir", "prepared", "--model_dir", "model", "--config_file", config, "--no_logging"),
        cwd=tmp_path,
    )
    assert fit.returncode == 0, fit.stderr
    assert (tmp_path / "model" / "model.pkl").is_file()

    scored = _run(
        "creditops.steps.evaluate",
        *("--data_dir", "prepared", "--model_dir", "model", "--eval_dir", "eval", "--config_file", config),
        cwd=tmp_path,
    )
    assert scored.returncode == 0, scored.stderr
    assert "better_than_last=1: no previous model" in scored.stdout
    evaluation = tmp_path / "eval"
    metrics = json.loads((evaluation / "credit_default_eval.json").read_text())
    assert {"roc_auc", "pr_auc", "log_loss", "brier_score", "macro avg"} <= set(metrics)
    assert (evaluation / "better_than_last.txt").read_text() == "1"
    assert (evaluation / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    assert (evaluation / "roc_curve.png").read_bytes()[:4] == b"\x89PNG"

    registered = _run(
        "creditops.steps.register",
        *("--model_dir", "model", "--eval_dir", "eval", "--registry_dir", "registry"),
        *("--config_file", config),
        cwd=tmp_path,
    )
    assert registered.returncode == 0, registered.stderr
    assert "registered credit_default_model version 1" in registered.stdout
    assert (tmp_path / "registry" / "credit_default_model" / "MLmodel").is_file()


def test_bad_config_on_the_real_command_line_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"train": {"n_estimators": "lots"}}))
    result = _run(
        "creditops.steps.train",
        *("--data_dir", "d", "--model_dir", "m", "--config_file", str(config)),
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: config {config}: train.n_estimators: Input should be a valid integer, "
        "unable to parse string as an integer"
    ]
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("step", [data_prep, train, evaluate, register])
def test_missing_config_file_is_named(step, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = {
        data_prep: ["--data_input_dir", "i", "--data_output_dir", "o"],
        train: ["--data_dir", "o", "--model_dir", "m"],
        evaluate: ["--data_dir", "o", "--model_dir", "m", "--eval_dir", "e"],
        register: ["--model_dir", "m", "--eval_dir", "e", "--registry_dir", "r"],
    }[step]
    code = step.main([*argv, "--config_file", str(tmp_path / "absent.json")])
    assert code == 2
    assert "config file not found" in capsys.readouterr().err


def test_missing_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert train.main(["--data_dir", "d"]) == 2
    assert "--model_dir" in capsys.readouterr().err


def test_bad_data_is_reported_and_nothing_is_written(
    tmp_path: Path, small_frame, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "input"
    source.mkdir()
    small_frame.assign(SEX=3).to_csv(source / "credit_default.csv", index=False)
    code = data_prep.main(
        [
            *("--data_input_dir", str(source), "--data_output_dir", str(tmp_path / "out")),
            *("--config_file", str(_config(tmp_path)), "--no_logging"),
        ]
    )
    assert code == 1
    assert "allowed_codes on 'SEX': 2000 row(s)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_train_without_data_prep_says_what_to_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = train.main(
        [
            *("--data_dir", str(tmp_path), "--model_dir", str(tmp_path / "m")),
            *("--config_file", str(_config(tmp_path)), "--no_logging"),
        ]
    )
    assert code == 1
    assert "run data_prep" in capsys.readouterr().err
