"""`creditops init`: a whole project for a new portfolio, valid with no edit, or nothing at all."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from creditops.cli import main
from creditops.config.environments import ENVIRONMENTS, load_environment
from creditops.config.modelling import load_modelling_config
from creditops.data.contract import load_contract

GERMAN = Path(__file__).resolve().parents[1] / "fixtures" / "germancredit.csv"
ARGUMENTS = ["--data", str(GERMAN), "--label", "creditability", "--positive", "bad"]


def test_init_writes_a_project_whose_every_file_validates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    protected = ["--protected", "personal_status_and_sex,age_in_years", "--protected", "foreign_worker"]
    assert main(["init", "german", *ARGUMENTS, *protected, "--name", "german_credit"]) == 0
    project = tmp_path / "german"
    contract = load_contract(project / "config" / "schema.yaml")
    assert contract.protected == ("personal_status_and_sex", "age_in_years", "foreign_worker")
    assert contract.label.positive == "bad"
    assert "age_in_years" in contract.slices  # a protected number column gets its bands
    config = load_modelling_config(project / "config" / "modelling.json")
    assert (config.data.data_file, config.registry.model_name, config.model.model_name) == (
        "germancredit.csv",
        "german_credit",
        "german_credit",
    )
    assert config.contract() == contract
    for env in ENVIRONMENTS:
        environment = load_environment(env, project / "config" / "environments")
        assert environment.endpoint.name == f"german-credit-{env}"
        assert not environment.built_in
    assert load_environment("dev", project / "config" / "environments").data.path == "data/germancredit.csv"
    assert load_environment("prod", project / "config" / "environments").data.path == "data/prod/germancredit.csv"
    assert pd.read_csv(project / "data" / "germancredit.csv").equals(pd.read_csv(GERMAN))
    for workflow in (".github/workflows/pr-validation.yml", ".github/workflows/release.yml", "azure-pipelines.yml"):
        assert yaml.safe_load((project / workflow).read_text())
    assert (project / ".gitignore").read_text() == ".creditops/\ndata/\n"
    assert "personal_status_and_sex, age_in_years, foreign_worker" in (project / "README.md").read_text()


def test_the_model_name_defaults_to_the_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "Risk Book", *ARGUMENTS]) == 2  # not a model name: the folder's, refused
    assert not (tmp_path / "Risk Book").exists()
    assert main(["init", "risk-book", *ARGUMENTS]) == 0
    assert (
        load_modelling_config(tmp_path / "risk-book" / "config" / "modelling.json").registry.model_name == "risk-book"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--label", "credit"], "label column 'credit' is not in the data; did you mean 'creditability'"),
        (["--label", "creditability", "--positive", "maybe"], "maybe"),
        (["--label", "creditability", "--positive", "bad", "--protected", "sexx"], "protected column 'sexx'"),
    ],
)
def test_bad_options_are_one_line_and_leave_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, arguments: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "p", "--data", str(GERMAN), *arguments]) != 0
    error = " ".join(capsys.readouterr().err.split())
    assert message in error
    assert "Traceback" not in error
    assert not (tmp_path / "p").exists()


def test_init_never_writes_into_a_folder_that_holds_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "notes.txt").write_text("mine")
    assert main(["init", "p", *ARGUMENTS]) == 1
    assert "p exists and is not an empty folder: choose a new one" in capsys.readouterr().err
    assert [path.name for path in (tmp_path / "p").iterdir()] == ["notes.txt"]
    (tmp_path / "empty").mkdir()
    assert main(["init", "empty", *ARGUMENTS]) == 0
    assert (tmp_path / "empty" / "config" / "schema.yaml").is_file()


def test_a_missing_data_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "p", "--data", "nope.csv", "--label", "x"]) == 1
    assert "data file not found: nope.csv" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_where_init_cannot_write_it_says_why_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    assert main(["init", "afile/project", *ARGUMENTS]) == 1
    assert "afile is a file, not a folder: init cannot make afile/project inside it" in capsys.readouterr().err
    long = "x" * 70
    assert main(["init", long, *ARGUMENTS]) == 2
    assert f"the folder's name '{long}' cannot be a model's name: give one with --name" in capsys.readouterr().err
    assert main(["init", long, *ARGUMENTS, "--name", "short"]) == 0
