"""Production data is never invented: a release on a missing file fails in one line; only dev synthesizes the
demo data on first use, and `creditops env data ENV --synthetic` writes it elsewhere on purpose."""

import re
from pathlib import Path

import pytest
import yaml

from creditops.cli import main
from creditops.config.environments import load_environment
from creditops.context import from_process
from creditops.data.io import read_table
from creditops.errors import CreditopsError
from creditops.flow import release

from ..small_environments import REPO, use_project


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with the repository's environment files (few rows) and no data at all."""
    (tmp_path / "config" / "environments").mkdir(parents=True)
    for name in ("dev", "staging", "prod"):
        settings = yaml.safe_load((REPO / "config" / "environments" / f"{name}.yaml").read_text())
        settings["data"]["rows"] = 300
        (tmp_path / "config" / "environments" / f"{name}.yaml").write_text(yaml.safe_dump(settings))
    return use_project(tmp_path, monkeypatch)


def _data_folder(project: Path, env: str) -> Path:
    return project / ".creditops" / "envs" / env / "data"


def test_the_environment_files_say_whose_data_is_production() -> None:
    for folder in (REPO / "config" / "environments", REPO / "src" / "creditops" / "config" / "built_in"):
        declared = {name: yaml.safe_load((folder / f"{name}.yaml").read_text())["data"] for name in ("dev", "prod")}
        assert declared["dev"]["production"] is False
        assert declared["prod"]["production"] is True
        assert load_environment("staging", folder).data.production is True


@pytest.mark.parametrize(("name", "production"), [("dev", False), ("staging", True), ("prod", True)])
def test_an_environment_file_without_the_setting_takes_it_from_the_name(
    tmp_path: Path, name: str, production: bool
) -> None:
    settings = yaml.safe_load((REPO / "config" / "environments" / f"{name}.yaml").read_text())
    del settings["data"]["production"]
    (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(settings))
    assert load_environment(name, tmp_path).data.production is production


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_a_release_on_missing_production_data_fails_in_one_line_and_writes_nothing(
    bare: Path, env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ci", "release", "--env", env]) == 1
    error = capsys.readouterr().err.strip()
    assert "\n" not in error.replace("\n ", " ")  # rich may wrap the one line; it is still one message
    flat = " ".join(error.split())
    path = f".creditops/envs/{env}/data/credit_default.parquet"
    assert f"the {env} data {path} is not there and {env}'s data is production data" in flat
    assert "copy the production extract there" in flat
    assert f"'creditops env data {env} --synthetic'" in flat
    assert not _data_folder(bare, env).exists()
    assert main(["env", "data", env]) == 1  # checking is not synthesizing either
    assert not _data_folder(bare, env).exists()


def test_the_gate_holdout_of_production_data_is_never_invented(bare: Path) -> None:
    with pytest.raises(CreditopsError, match="production data"):
        release.environment_split(from_process("prod"))
    assert not _data_folder(bare, "prod").exists()


def test_dev_synthesizes_the_demo_data_on_first_use(bare: Path) -> None:
    said: list[str] = []
    path = release.ensure_data(from_process("dev"), say=said.append)
    assert path == Path(".creditops/data/credit_default.parquet")
    assert len(read_table(path)) == 300
    assert said == [f"synthesized 300 rows (seed 2005) for dev: {path}"]
    assert release.ensure_data(from_process("dev"), say=said.append) == path  # there now: nothing more
    assert len(said) == 1


def test_synthetic_production_data_is_an_explicit_act_that_never_overwrites(
    bare: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["env", "data", "prod", "--synthetic"]) == 0
    written = _data_folder(bare, "prod") / "credit_default.parquet"
    assert len(read_table(written)) == 300
    assert "synthesized 300 rows (seed 303) for prod" in capsys.readouterr().out
    before = written.read_bytes()
    assert main(["env", "data", "prod", "--synthetic"]) == 1
    assert "is there already: creditops does not overwrite prod's data" in " ".join(capsys.readouterr().err.split())
    assert written.read_bytes() == before
    assert main(["env", "data", "prod"]) == 0  # there: the check passes
    assert release.ensure_data(from_process("prod")) == Path(".creditops/envs/prod/data/credit_default.parquet")


def test_production_data_at_a_uri_is_read_where_it_is(bare: Path, tmp_path: Path) -> None:
    local = tmp_path / "extract.csv"
    assert main(["data", "synth", "--rows", "200", "--seed", "5", "--output", str(local)]) == 0
    prod = bare / "config" / "environments" / "prod.yaml"
    settings = yaml.safe_load(prod.read_text())
    settings["data"]["path"] = local.as_uri()
    prod.write_text(yaml.safe_dump(settings))
    assert release.ensure_data(from_process("prod")) == local.as_uri()
    train, test = release.environment_split(from_process("prod"))
    assert len(train) + len(test) == 200
    settings["data"]["path"] = (tmp_path / "absent.csv").as_uri()
    prod.write_text(yaml.safe_dump(settings))
    with pytest.raises(CreditopsError, match=r"the prod data file:///.*/absent.csv is not there"):
        release.ensure_data(from_process("prod"))


def test_dev_trains_on_the_data_make_run_makes() -> None:
    """One dev: `make run` and `ci release --env dev` read the same file, made by the same rows and seed."""
    makefile = dict(re.findall(r"^(DATA|ROWS|SEED) \?= (\S+)$", (REPO / "Makefile").read_text(), re.MULTILINE))
    dev = load_environment("dev", REPO / "config" / "environments").data
    assert (dev.path, dev.rows, dev.seed) == (makefile["DATA"], int(makefile["ROWS"]), int(makefile["SEED"]))
