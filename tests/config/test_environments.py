from pathlib import Path

import pytest

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
    assert loaded["dev"].data.rows < loaded["prod"].data.rows


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
