"""The learners creditops can train: one module each, named here. Adding a learner is its module and one
entry in LEARNERS; the configuration, training, files, MLflow folders, scoring and reasons follow."""

from typing import Final

from creditops.errors import CreditopsError
from creditops.modelling.learners.base import Learner
from creditops.modelling.learners.lightgbm import LightGBM
from creditops.modelling.learners.scorecard import Scorecard
from creditops.modelling.learners.sklearn_gbm import SklearnGBM
from creditops.modelling.learners.xgboost import XGBoost

LEARNERS: Final[dict[str, Learner]] = {
    learner.name: learner for learner in (LightGBM(), SklearnGBM(), XGBoost(), Scorecard())
}


def learner(name: str) -> Learner:
    """The learner called `name`, or a one-line error listing them."""
    found = LEARNERS.get(name)
    if found is None:
        raise CreditopsError(f"unknown learner {name!r}: creditops has {listing()}")
    return found


def listing() -> str:
    """The learners' names as a sentence lists them: 'lightgbm, sklearn_gbm, xgboost or scorecard'."""
    names = list(LEARNERS)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
