"""The modelling config: the original config/modelling.json schema, extended with optional keys."""

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from creditops.config.validation import describe, read_config_text, validated
from creditops.errors import ConfigError

if TYPE_CHECKING:
    from creditops.data.contract import Contract
    from creditops.modelling.learners.base import LearnerParams

Metric = Literal["roc_auc", "pr_auc", "log_loss", "brier_score", "accuracy", "f1"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSection(_Section):
    data_file: str = Field("credit_default.parquet", description="Input file in the input directory")
    train_file: str = Field("train.csv", description="Training split written by data_prep")
    test_file: str = Field("test.csv", description="Test split written by data_prep")
    test_train_ratio: float = Field(0.25, gt=0, lt=1, description="Share of rows in the test split")
    eval_file: str = Field("test.csv", description="Split that evaluate scores")
    random_seed: int = Field(42, description="Seed of the stratified split")
    schema_file: str | None = Field(
        None, description="Data contract YAML, from the folder of this config file; null: the built-in UCI contract"
    )


def _learners_schema(schema: dict[str, Any]) -> None:
    from creditops.modelling.learners import LEARNERS

    schema["enum"] = list(LEARNERS)


def _params_schema(schema: dict[str, Any]) -> None:
    from creditops.modelling.learners import LEARNERS

    schema["anyOf"] = [learner.Params.model_json_schema() | {"title": learner.name} for learner in LEARNERS.values()]


SHARED_KEYS: Final = ("n_estimators", "learning_rate", "num_leaves", "max_depth")
"""The original config's hyperparameters: each goes to the learners whose Params have it."""


class TrainSection(_Section):
    n_estimators: int = Field(100, ge=1, le=10_000, description="Number of boosted trees")
    learning_rate: float = Field(0.05, gt=0, le=1, description="Shrinkage of each tree")
    algorithm: str = Field(
        "lightgbm",
        description="The learner, one of the enum: lightgbm by default, sklearn_gbm the original project's",
        json_schema_extra=_learners_schema,
    )
    num_leaves: int = Field(7, ge=2, le=4096, description="Leaves per tree (lightgbm)")
    max_depth: int = Field(3, ge=1, le=64, description="Depth per tree (sklearn_gbm, xgboost)")
    random_seed: int = Field(42, description="Seed of the learner")
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="The chosen learner's own hyperparameters (its Params); they take the place of the keys above",
        json_schema_extra=_params_schema,
    )

    @field_validator("algorithm")
    @classmethod
    def _known(cls, name: str) -> str:
        from creditops.modelling.learners import LEARNERS, listing

        if name not in LEARNERS:
            raise ValueError(f"{name!r} is not a learner: use {listing()}")
        return name

    @field_validator("params")
    @classmethod
    def _params_fit_the_learner(cls, params: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        from creditops.modelling.learners import learner

        if "algorithm" not in info.data:  # an unknown learner: already said
            return params
        chosen = learner(info.data["algorithm"])
        shared: dict[str, Any] = {
            key: info.data[key] for key in SHARED_KEYS if key in chosen.Params.model_fields and key in info.data
        }
        try:
            chosen.Params.model_validate({**shared, **params})
        except ValidationError as error:
            unknown = any(item["type"] == "extra_forbidden" for item in error.errors())
            hint = f" ({chosen.name} takes {', '.join(chosen.Params.model_fields)})" if unknown else ""
            raise ValueError(f"{describe(error)}{hint}") from None
        return params

    @model_validator(mode="after")
    def _set_once(self) -> "TrainSection":
        for key in SHARED_KEYS:
            if key in self.params and key in self.model_fields_set:
                raise ValueError(f"{key} is set both as train.{key} and as train.params.{key}: keep one")
        return self

    def learner_params(self) -> "LearnerParams":
        """The chosen learner's hyperparameters: `params`, and the original keys where the learner has them."""
        from creditops.modelling.learners import learner

        chosen = learner(self.algorithm)
        shared: dict[str, Any] = {key: getattr(self, key) for key in SHARED_KEYS if key in chosen.Params.model_fields}
        return chosen.params({**shared, **self.params})


class ModelSection(_Section):
    model_file: str = Field("model.pkl", description="Model file written by train (safe format)")
    model_name: str = Field("credit_default_model", min_length=1, description="Model name")


class EvalSection(_Section):
    eval_file: str = Field("credit_default_eval.json", description="Metrics of the new model")
    eval_file_last_model: str = Field(
        "credit_default_eval_last.json", description="Metrics of the champion on the same data"
    )
    better_than_last_file: str = Field("better_than_last.txt", description="1 or 0")
    primary_metric: Metric = Field("roc_auc", description="Metric that decides better_than_last")
    tolerance: float = Field(0.0, ge=0, le=1, description="How much worse than the champion still counts as better")
    threshold: float = Field(0.5, gt=0, lt=1, description="Probability above which class is 1")


class RegistrySection(_Section):
    model_name: str = Field("credit_default_model", min_length=1, description="Registered name")


class ModellingConfig(_Section):
    """The whole modelling config; every key has a default, so `{}` is a valid file."""

    data: DataSection = DataSection()
    train: TrainSection = TrainSection()
    model: ModelSection = ModelSection()
    eval: EvalSection = EvalSection()
    registry: RegistrySection = RegistrySection()
    _folder: Path = PrivateAttr(default_factory=Path)
    """Where the config file lies: its schema_file is read from there (the current folder for the defaults)."""

    def contract(self) -> "Contract":
        """The data contract this config names (the built-in UCI one when it names none)."""
        from creditops.data.contract import load_contract

        if self.data.schema_file is None:
            return load_contract(None)
        return load_contract(self._folder / self.data.schema_file)

    def digest(self) -> str:
        """SHA-256 of the resolved config and of the contract it names, stable across key order and formatting:
        a model trained under an edited contract is a new model."""
        resolved = {**self.model_dump(mode="json"), "schema_sha256": self.contract().digest()}
        canonical = json.dumps(resolved, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


PROJECT_CONFIG: Final = Path("config") / "modelling.json"
"""The project's modelling config, read by every command when no other is named."""


def load_modelling_config(path: Path | None) -> ModellingConfig:
    """The validated config at `path`; when None, the project's `config/modelling.json` if the folder has
    one, else the embedded defaults (so an edit of the project's file is never silently ignored)."""
    if path is None and PROJECT_CONFIG.is_file():
        path = PROJECT_CONFIG
    if path is None:
        return ModellingConfig()
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        payload = json.loads(read_config_text(path, label="config "))
    except json.JSONDecodeError as error:
        raise ConfigError(f"config {path} is not valid JSON: {error}") from error
    except RecursionError:
        raise ConfigError(f"config {path} is nested too deeply to be a modelling config: check its brackets") from None
    config = validated(ModellingConfig, payload, path, label="config ")
    config._folder = path.parent
    return config
