import re
from pathlib import Path

import pytest
import yaml

from creditops.cli import main
from creditops.config.environments import ENVIRONMENTS, environment_lock_hash, load_environment
from creditops.errors import ConfigError

REPO_ENVIRONMENTS = Path(__file__).resolve().parents[2] / "config" / "environments"


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_every_shipped_environment_loads(name: str) -> None:
    environment = load_environment(name, REPO_ENVIRONMENTS)
    assert environment.name == name
    assert environment.endpoint.name == f"creditops-{name}"


def test_only_prod_requires_approval_and_seeds_differ() -> None:
    loaded = {name: load_environment(name, REPO_ENVIRONMENTS) for name in ENVIRONMENTS}
    assert [name for name, env in loaded.items() if env.approval_required] == ["prod"]
    assert len({env.data.seed for env in loaded.values()}) == 3
    assert [name for name, env in loaded.items() if not env.data.production] == ["dev"]


def test_unknown_environment_is_named() -> None:
    with pytest.raises(ConfigError, match="unknown environment 'qa': use one of dev, staging, prod"):
        load_environment("qa", REPO_ENVIRONMENTS)


def test_unknown_key_is_one_line_naming_it(tmp_path: Path) -> None:
    text = (REPO_ENVIRONMENTS / "dev.yaml").read_text().replace("  seed: 7", "  seed: 7\n  sead: 8")
    (tmp_path / "dev.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"gate\.sead: unknown key") as raised:
        load_environment("dev", tmp_path)
    assert "\n" not in str(raised.value)


def test_bad_mode_and_name_mismatch(tmp_path: Path) -> None:
    text = (REPO_ENVIRONMENTS / "dev.yaml").read_text()
    (tmp_path / "dev.yaml").write_text(text.replace("mode: enabled", "mode: sometimes"))
    with pytest.raises(ConfigError, match=r"gate\.mode"):
        load_environment("dev", tmp_path)
    (tmp_path / "staging.yaml").write_text(text)
    with pytest.raises(ConfigError, match="declares name 'dev'"):
        load_environment("staging", tmp_path)


def test_lock_hash_is_stable() -> None:
    assert environment_lock_hash() == environment_lock_hash()
    assert len(environment_lock_hash()) == 64


@pytest.mark.parametrize("steps", ["[100, 50]", "[0, 100]", "[10, 50]", "[150]", "[]", "[-10, 100]", "[50, 10, 100]"])
def test_rollout_steps_that_do_not_rise_to_100_are_refused_at_load(tmp_path: Path, steps: str) -> None:
    text = (REPO_ENVIRONMENTS / "dev.yaml").read_text()
    (tmp_path / "dev.yaml").write_text(re.sub(r"steps: \[10, 50, 100\]", f"steps: {steps}", text))
    shown = ",".join(str(step) for step in yaml.safe_load(steps)) or "none"
    with pytest.raises(ConfigError) as raised:
        load_environment("dev", tmp_path)
    assert str(raised.value) == (
        f"{tmp_path / 'dev.yaml'}: rollout.steps: steps must rise to 100, each above 0, e.g. 10,50,100; got {shown}"
    )


@pytest.mark.parametrize("steps", ["[100]", "[10, 50, 100]", "[1, 2, 3, 100]", "[50, 50, 100]"])
def test_rollout_steps_that_rise_to_100_load(tmp_path: Path, steps: str) -> None:
    text = (REPO_ENVIRONMENTS / "dev.yaml").read_text()
    (tmp_path / "dev.yaml").write_text(text.replace("steps: [10, 50, 100]", f"steps: {steps}"))
    assert list(load_environment("dev", tmp_path).rollout.steps) == yaml.safe_load(steps)


def test_an_environment_file_that_is_not_utf8_is_one_line_naming_it(tmp_path: Path) -> None:
    content = (REPO_ENVIRONMENTS / "dev.yaml").read_bytes() + "# café, saved as Windows-1252\n".encode("cp1252")
    (tmp_path / "dev.yaml").write_bytes(content)
    with pytest.raises(
        ConfigError, match=r"dev\.yaml is not UTF-8 text \(byte 0xe9 at offset \d+\): save it as UTF-8$"
    ):
        load_environment("dev", tmp_path)


def test_env_show_refuses_bad_steps_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "config" / "environments"
    folder.mkdir(parents=True)
    text = (REPO_ENVIRONMENTS / "staging.yaml").read_text()
    (folder / "staging.yaml").write_text(text.replace("steps: [10, 50, 100]", "steps: [10, 50]"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CREDITOPS_HOME", str(tmp_path / ".creditops"))
    assert main(["env", "show", "staging"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: config/environments/staging.yaml: rollout.steps: steps must rise to 100, each above 0, e.g."
        " 10,50,100; got 10,50\n"
    )


def test_the_compute_section_is_optional_and_names_no_scheduler_by_default() -> None:
    assert all(load_environment(name, REPO_ENVIRONMENTS).compute.dask_scheduler is None for name in ENVIRONMENTS)


@pytest.mark.parametrize("address", ["tcp://10.0.0.5:8786", "tls://scheduler.internal:8786", "local:2"])
def test_a_dask_scheduler_in_the_compute_section_loads(tmp_path: Path, address: str) -> None:
    text = (REPO_ENVIRONMENTS / "dev.yaml").read_text() + f"compute:\n  dask_scheduler: {address}\n"
    (tmp_path / "dev.yaml").write_text(text)
    assert load_environment("dev", tmp_path).compute.dask_scheduler == address


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ("  dask_scheduler: local:0", "a local cluster has 1 to 64 worker processes"),
        ("  dask_scheduler: tcp://10.0.0.5", "is neither a Dask scheduler address \\(tcp://HOST:PORT\\) nor local:N"),
        ("  dask_schedular: tcp://10.0.0.5:8786", r"compute\.dask_schedular: unknown key"),
    ],
)
def test_a_bad_compute_section_is_one_line_naming_it(tmp_path: Path, section: str, problem: str) -> None:
    (tmp_path / "dev.yaml").write_text((REPO_ENVIRONMENTS / "dev.yaml").read_text() + f"compute:\n{section}\n")
    with pytest.raises(ConfigError, match=problem) as raised:
        load_environment("dev", tmp_path)
    assert "\n" not in str(raised.value)
