"""`creditops init`: a project for a new portfolio, ready to run with no further edit.

The contract is inferred from the portfolio's data (for a person to review), the environment files are
creditops' own with the portfolio's data paths and endpoint names, and CI/CD calls the same commands a
person runs. Every file is written under a temporary folder that is renamed into place when complete:
an interrupted init leaves no half-made project.
"""

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from creditops import __version__
from creditops.config.environments import BUILT_IN_DIR, ENVIRONMENTS
from creditops.config.modelling import ModellingConfig
from creditops.data.contract import Contract
from creditops.data.infer import contract_yaml
from creditops.errors import ConfigError, CreditopsError
from creditops.files import atomic_path

TEMPLATES: Final = Path(__file__).parent
WORKFLOWS: Final = {
    ".github/workflows/pr-validation.yml": "pr-validation.yml",
    ".github/workflows/release.yml": "release.yml",
    "azure-pipelines.yml": "azure-pipelines.yml",
}
MODEL_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


@dataclass(frozen=True)
class Project:
    """What init made: the folder, its data file and the files it wrote (relative to the folder)."""

    folder: Path
    data: Path
    files: tuple[str, ...]


def scaffold(folder: Path, data: Path, contract: Contract, model_name: str) -> Project:
    """Write a project for `contract`'s portfolio into `folder` (which must not exist or be empty), with a
    copy of `data` as the dev data."""
    if not MODEL_NAME.match(model_name):
        raise ConfigError(
            f"--name {model_name!r} is not a model name: use letters, digits, '_', '.' and '-' (up to 63)"
        )
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise CreditopsError(f"{folder} exists and is not an empty folder: choose a new one")
    for parent in folder.absolute().parents:
        if parent.exists() and not parent.is_dir():
            raise CreditopsError(f"{parent} is a file, not a folder: init cannot make {folder} inside it")
    endpoint = re.sub(r"[^a-z0-9-]+", "-", model_name.lower()).strip("-") or "portfolio"
    data_name = data.name
    files = {
        "config/schema.yaml": contract_yaml(contract, source=data_name),
        "config/modelling.json": _modelling(data_name, model_name),
        **{f"config/environments/{env}.yaml": _environment(env, data_name, endpoint) for env in ENVIRONMENTS},
        **{target: (TEMPLATES / source).read_text(encoding="utf-8") for target, source in WORKFLOWS.items()},
        "requirements.txt": _requirements(),
        ".gitignore": ".creditops/\ndata/\n",
        "README.md": _readme(contract, model_name, data_name),
    }
    with atomic_path(folder) as temporary:
        temporary.mkdir(parents=True)
        for relative, text in files.items():
            target = temporary / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        (temporary / "data").mkdir(exist_ok=True)
        shutil.copyfile(data, temporary / "data" / data_name)
    return Project(folder, folder / "data" / data_name, tuple(sorted([*files, f"data/{data_name}"])))


def _modelling(data_name: str, model_name: str) -> str:
    defaults = ModellingConfig()
    config = defaults.model_copy(
        update={
            "data": defaults.data.model_copy(update={"data_file": data_name, "schema_file": "schema.yaml"}),
            "model": defaults.model.model_copy(update={"model_name": model_name}),
            "registry": defaults.registry.model_copy(update={"model_name": model_name}),
        }
    )
    return json.dumps(config.model_dump(mode="json"), indent=2) + "\n"


_DATA_PATH: Final = re.compile(r"^(  path: )\.creditops/(envs/\w+/)?data/credit_default\.parquet$", re.MULTILINE)
_ENDPOINT_NAME: Final = re.compile(r"^(  name: )creditops-(\w+)$", re.MULTILINE)


def _environment(env: str, data_name: str, endpoint: str) -> str:
    """creditops' own environment file with the portfolio's data path and endpoint name: dev reads the file
    init copied; staging and prod read their own portfolios, which the team puts in place."""
    text = (BUILT_IN_DIR / f"{env}.yaml").read_text(encoding="utf-8")
    where = f"data/{data_name}" if env == "dev" else f"data/{env}/{data_name}"
    text, paths = _DATA_PATH.subn(lambda match: f"{match[1]}{where}", text)
    text, names = _ENDPOINT_NAME.subn(lambda match: f"{match[1]}{endpoint}-{match[2]}", text)
    if (paths, names) != (1, 1):
        raise CreditopsError(f"creditops' own {env}.yaml has changed shape: init cannot adapt it (a bug)")
    return text


def _requirements() -> str:
    return (
        "# creditops at the version that made this project; pin your own index's copy the same way.\n"
        f"creditops=={__version__}\n"
    )


def _readme(contract: Contract, model_name: str, data_name: str) -> str:
    protected = ", ".join(contract.protected) or "none"
    return f"""# {model_name}

A credit-risk model of the `{contract.name}` portfolio, built and operated with creditops {__version__}.

## First steps

1. Review `config/schema.yaml`: it was inferred from `{data_name}`. Check each column's role, type, categories
   and range; describe the columns; decide the monotone directions and the reason-code sentences. Protected
   columns ({protected}) are validated and kept to measure fairness; they never score.
2. Train, register and see the card: `creditops run --data data/{data_name}`.
3. Serve it: `creditops serve --model models:/{model_name}@champion`; score a file:
   `creditops score --model models:/{model_name}@champion --data data/{data_name} --output scored.csv`.
4. The deploy-code flow: `creditops ci release --env dev`, then `creditops monitor drift --env dev`,
   `creditops status --env dev`.

## Data

`data/` is not committed (see `.gitignore`): portfolios hold personal data. Dev reads `data/{data_name}`;
staging and prod read `data/staging/{data_name}` and `data/prod/{data_name}` (`data.path` in
`config/environments/`), which the team puts on the machines that run those releases; creditops never
invents rows of a portfolio.

## CI/CD

`.github/workflows/` and `azure-pipelines.yml` run the same commands: pull requests check the contract, the
modelling config and the environment files; a push to `main` retrains on the staging portfolio, gates the
candidate and deploys it to staging with nobody asked (`approval_required: false`); `releases/*` retrains on
the production portfolio, gates the candidate and deploys it after the `prod` environment's reviewers
approve. Both run on a self-hosted runner (or agent pool `portfolio`) that holds the portfolio.
"""
