"""The creditops command line, run in-process through main(argv)."""

import json
from pathlib import Path

import pytest

from creditops.cli import main
from creditops.data.io import read_table

pytestmark = pytest.mark.e2e


def test_data_synth_writes_each_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for suffix in (".csv", ".parquet", ".xlsx"):
        output = tmp_path / f"data{suffix}"
        assert main(["data", "synth", "--rows", "300", "--seed", "1", "--output", str(output)]) == 0
        assert len(read_table(output)) == 300
    assert "default rate" in capsys.readouterr().out


def test_data_synth_rejects_unknown_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["data", "synth", "--rows", "10", "--output", str(tmp_path / "x.csv"), "--drift", "moon"])
    assert code == 2
    assert "unknown drift 'moon'" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_data_synth_rejects_unknown_suffix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "synth", "--rows", "10", "--output", str(tmp_path / "x.txt")]) == 1
    assert "unsupported format '.txt'" in capsys.readouterr().err


def test_data_check_reports_failures(tmp_path: Path, small_frame, capsys) -> None:
    path = tmp_path / "bad.csv"
    small_frame.assign(MARRIAGE=7).to_csv(path, index=False)
    assert main(["data", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "allowed_codes" in out
    assert "MARRIAGE" in out


def test_run_then_models_list_and_show(workspace: Path, data_file: Path, capsys) -> None:
    config = workspace.parent / "config.json"
    config.write_text(json.dumps({"train": {"n_estimators": 20}}))
    assert main(["run", "--config", str(config), "--data", str(data_file)]) == 0
    out, err = capsys.readouterr()
    assert "registered credit_default_model version 1" in out
    assert "roc_auc" in out
    assert "✓ register" in out
    assert "Successfully registered model" not in err  # MLflow's own lines stay out of the display
    assert "Creating initial MLflow database tables" not in err

    assert main(["run", "--config", str(config), "--data", str(data_file), "-q"]) == 0
    out = capsys.readouterr().out
    assert "nothing new registered" in out
    assert "✓" not in out

    assert main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    assert "champion" in listing
    assert "challenger" in listing

    assert main(["models", "show", "credit_default_model@champion"]) == 0
    detail = capsys.readouterr().out
    assert "data_sha256" in detail
    assert "git_commit" in detail

    assert main(["models", "show", "credit_default_model/9"]) == 1
    assert "has no version 9" in capsys.readouterr().err

    assert main(["models", "list", "--output", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [version["version"] for version in listed["credit_default_model"]] == ["1"]
    assert set(listed["credit_default_model"][0]["aliases"]) == {"champion", "challenger"}
    assert main(["models", "show", "credit_default_model@champion", "-o", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["version"] == "1"
    assert shown["tags"]["data_sha256"]


def test_run_with_bad_config_exits_2_in_one_line(tmp_path: Path, capsys) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"eval": {"primary_metric": "speed"}}))
    assert main(["run", "--config", str(config), "--data", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert "eval.primary_metric" in err
    assert len(err.splitlines()) == 1


def test_run_on_a_missing_file_says_how_to_create_it(workspace: Path, capsys) -> None:
    assert main(["run", "--data", "nowhere.parquet"]) == 1
    assert "creditops data synth" in capsys.readouterr().err


@pytest.mark.e2e
def test_run_without_data_trains_on_devs_data_where_status_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """One dev: `creditops run` alone makes dev's data on first use, registers in dev's store, and `status`
    shows the champion there."""
    from .small_environments import small_project

    project = small_project(tmp_path, monkeypatch)
    assert main(["run", "--quiet"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "rows (seed 2005) for dev" in out
    assert (project / ".creditops" / "data" / "credit_default.parquet").is_file()
    assert main(["status", "--env", "dev", "--output", "json"]) == 0
    (dev,) = json.loads(capsys.readouterr().out)
    assert dev["champion"] == "1"


def test_run_with_bad_data_prints_the_check_table(workspace: Path, tmp_path: Path, small_frame, capsys) -> None:
    path = tmp_path / "bad.csv"
    small_frame.drop(columns=["AGE"]).to_csv(path, index=False)
    assert main(["run", "--data", str(path)]) == 1
    err = capsys.readouterr().err
    assert "required_column" in err
    assert "AGE" in err


def test_models_list_on_an_empty_store(workspace: Path, capsys) -> None:
    assert main(["models", "list"]) == 0
    assert "no registered models" in capsys.readouterr().out
    assert not (workspace / "mlflow.db").exists()


def test_config_schema_and_show(capsys) -> None:
    assert main(["config", "schema"]) == 0
    assert "ModellingConfig" in capsys.readouterr().out
    assert main(["config", "show"]) == 0
    assert json.loads(capsys.readouterr().out)["train"]["algorithm"] == "lightgbm"


def test_version_and_unknown_command(capsys) -> None:
    assert main(["version"]) == 0
    assert main(["nonsense"]) == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["monitor", "drift", "--env", "dev", "--since", "soon"], "--since 'soon' is not a duration"),
        (["endpoint", "traffic", "any", "blue:100"], "traffic 'blue:100' is not DEP=PCT"),
        (["endpoint", "rollout", "any", "--model", "m", "--steps", "10,half,100"], "--steps must be percentages"),
        (
            ["serve", "--model", "m", "--api-key-env", "CREDITOPS_TEST_NO_SUCH_KEY"],
            "CREDITOPS_TEST_NO_SUCH_KEY is empty",
        ),
    ],
)
def test_malformed_options_are_one_line_errors(workspace: Path, argv: list[str], message: str, capsys) -> None:
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_version_flag_and_an_empty_endpoint_list(workspace: Path, capsys) -> None:
    from creditops import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == __version__
    assert main(["endpoint", "list"]) == 0
    assert "no endpoints in" in capsys.readouterr().out
    assert main(["endpoint", "list", "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["models", "list", "--output", "yaml"]) == 2
    assert "'yaml' is not one of" in capsys.readouterr().err


def test_run_no_logging_leaves_no_store(workspace: Path, data_file: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    assert main(["run", "--data", str(data_file), "--no-logging", "--summary-json", str(summary)]) == 0
    assert "--no-logging trains and evaluates only" in json.loads(summary.read_text())["registration"]["reason"]
    assert not (workspace / "mlflow.db").exists()


def test_data_synth_writes_rows_to_score_and_their_outcomes_apart(tmp_path: Path, capsys) -> None:
    rows, outcomes = tmp_path / "traffic.csv", tmp_path / "outcomes.parquet"
    arguments = ["data", "synth", "--rows", "40", "--output", str(rows), "--outcomes", str(outcomes)]
    assert main([*arguments, "--first-id", "501", "--observed-on", "2026-06-30", "--drift", "concept"]) == 0
    assert "their outcomes, observed on 2026-06-30" in capsys.readouterr().out
    scored, observed = read_table(rows), read_table(outcomes)
    assert "default payment next month" not in scored
    assert scored["ID"].tolist() == observed["ID"].tolist() == list(range(501, 541))
    assert set(observed["observation_date"]) == {"2026-06-30"}


@pytest.mark.parametrize(
    ("extra", "message", "code"),
    [
        (["--observed-on", "2026-13-01"], "'2026-13-01' is not a date like 2026-11-30", 2),
        (["--outcomes", "OUT"], "write the outcomes to another file than --output", 2),
        (["--outcomes", "o.txt"], "unsupported format '.txt'", 1),
    ],
    ids=["bad-date", "same-file", "bad-suffix"],
)
def test_data_synth_refuses_bad_outcome_options_before_writing(tmp_path: Path, capsys, extra, message, code) -> None:
    output = tmp_path / "traffic.csv"
    extra = [str(output) if item == "OUT" else str(tmp_path / item) if item == "o.txt" else item for item in extra]
    assert main(["data", "synth", "--rows", "10", "--output", str(output), *extra]) == code
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_invoke_explain_refuses_data_files_and_requests_that_are_not_objects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CREDITOPS_HOME", str(tmp_path / ".creditops"))
    listed = tmp_path / "rows.json"
    listed.write_text("[[1, 2, 3]]")
    invoke = ["endpoint", "--env", "dev", "invoke", "creditops-dev", "--explain", "2"]
    assert main([*invoke, "--data", str(tmp_path / "rows.csv")]) == 1
    assert "--explain goes with a request file, not --data" in capsys.readouterr().err
    assert main([*invoke, "--request-file", str(listed)]) == 1
    assert "holds no JSON object to add 'explain' to" in capsys.readouterr().err
    assert main([*invoke, "--explain", "11"]) == 2  # typer's range check names the option


def test_brackets_in_an_error_are_printed_as_they_are(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "portfolio[azure].csv"
    assert main(["data", "check", str(missing)]) == 1
    assert "portfolio[azure].csv" in " ".join(capsys.readouterr().err.split())


def test_the_process_exits_with_mains_code_and_skips_the_last_full_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    import creditops.cli

    monkeypatch.setattr(creditops.cli, "main", lambda: 3)
    frozen = gc.get_freeze_count()
    try:
        with pytest.raises(SystemExit) as ended:
            creditops.cli.process()
        assert ended.value.code == 3
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
