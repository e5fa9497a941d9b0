"""A model ready to score, and where it came from: what the scoring service and batch scoring both take."""

from dataclasses import dataclass

from creditops.modelling.estimators import TrainedModel


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to score, and where it came from."""

    model: TrainedModel
    name: str
    version: str
    uri: str
    threshold: float = 0.5
