"""What every learner is: one interface from fitting to reason codes to a file that never unpickles.

The rest of creditops holds a `TrainedModel` (learner name, estimator, contract) and reaches the learner
through it; nothing else knows which library is underneath.
"""

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Final

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from creditops.config.validation import describe
from creditops.data.contract import Contract
from creditops.errors import ConfigError

TRAINING_THREADS: int | None = None
"""A fixed thread count for training (benchmarks set it); None: `training_threads()`."""

TWO_THREADS_FROM: Final = 200_000
"""Training rows from which two (passive) threads pay for their waiting."""


def training_threads(rows: int) -> int:
    """Two threads for large data when OpenMP's threads sleep while they wait (`OMP_WAIT_POLICY=PASSIVE`,
    set by every creditops edge), else one: for training, and for predicting as many rows in one call (the
    evaluation's). Beside two busy LightGBM processes (benchmarks/bench_busy.py):
    on 750,000 rows two spinning threads took 6.2 s quiet but 192 s busy, one thread 11.0 s and 27.9 s,
    two passive threads 7.3 s and 19.5 s; on 30,000 rows one thread is best (0.35 s and 0.9 s against
    0.42 s and 1.33 s). The trees are the same for any count."""
    if TRAINING_THREADS is not None:
        return TRAINING_THREADS
    passive = os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"
    return 2 if passive and rows >= TWO_THREADS_FROM else 1


class LearnerParams(BaseModel):
    """A learner's hyperparameters: every key known and bounded, so a typo is an error, not a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class NativeFlavor:
    """MLflow's own flavor for a learner's library, used where it stores the model in a format that runs no
    code on load. Learners without one are written with creditops' flavor (learners/pyfunc.py)."""

    name: str
    """The flavor's key in MLmodel, which is also its module: `mlflow.<name>`."""
    data: str
    """The flavor's entry that names the model file inside the folder."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Arguments of the flavor's save_model and log_model beyond the ones every learner passes."""
    requires: Mapping[str, Any] = field(default_factory=dict)
    """Entries a folder's flavor must carry to be read (the safe serialization format)."""


class Learner(ABC):
    """One learning algorithm: its hyperparameters, fitting, scoring, contributions and model file."""

    name: ClassVar[str]
    Params: ClassVar[type[LearnerParams]]
    explanation: ClassVar[str]
    """How `contributions` are computed, in words, for the model card."""
    requirements: ClassVar[tuple[str, ...]]
    """The distributions a process needs to read the model file, pinned in every MLflow model folder."""
    file_name: ClassVar[str] = "model.json"
    """The model file's name in an MLflow folder written with creditops' flavor."""
    native_flavor: ClassVar[NativeFlavor | None] = None

    def params(self, given: Mapping[str, Any] | None = None) -> LearnerParams:
        """`given` (missing keys take their defaults) as this learner's validated Params; one line otherwise."""
        try:
            return self.Params.model_validate(dict(given or {}))
        except ValidationError as error:
            raise ConfigError(f"{self.name} params: {describe(error)}") from None

    @abstractmethod
    def fit(self, features: np.ndarray, labels: np.ndarray, contract: Contract, params: Any, seed: int) -> Any:
        """The estimator fitted on the contract's feature matrix; the same for the same seed."""

    @abstractmethod
    def predict_proba(self, estimator: Any, matrix: np.ndarray, threads: int) -> np.ndarray:
        """The probability of default of each row, as a 1-D float64 array."""

    @abstractmethod
    def contributions(self, estimator: Any, matrix: np.ndarray, threads: int) -> np.ndarray:
        """Per row, each feature's contribution to the log-odds of default, then the base value
        (n × features + 1): each row sums to its raw score."""

    @abstractmethod
    def save(self, estimator: Any, path: Path) -> None:
        """Write the estimator to `path` in a format that runs no code when read (the caller makes it atomic)."""

    @abstractmethod
    def load(self, path: Path, contract: Contract | None) -> Any:
        """The estimator in `path`, or a one-line CreditopsError. `contract` is the one the model travels with
        (None for a model registered before contracts travelled); a learner that needs it refuses None."""

    @abstractmethod
    def inputs(self, estimator: Any) -> tuple[list[str] | None, int]:
        """The feature names the estimator keeps (None where it keeps none) and their count, checked
        against the contract it travels with."""

    def reviewed_table(self, estimator: Any) -> "tuple[str, pd.DataFrame] | None":
        """What validators review of the model itself, as a titled table for the card (a scorecard's points);
        None where the model speaks through its contributions only (trees)."""
        return None

    @abstractmethod
    def recognises(self, head: bytes) -> bool:
        """Whether a file that starts with `head` (its first 64 bytes) is this learner's model file."""
