"""check data, prep and train on a Dask cluster, for `creditops run --cluster`: partitioned Parquet in,
the same records out as the stages in one process (a data manifest, a LightGBM model, a test frame), so
evaluate, register, report and promote run unchanged on the client.

- check data: the contract's checks run on each partition (`check_data(part=...)`), the IDs' uniqueness
  across partitions; the failures merge into the one-line DataCheckError of a run in one process.
- prep: each row goes to the test part by a seeded hash of its class and ID (`in_test_part`): the same for
  any partitioning; the manifest's counts are exact sums over the partitions.
- train: `lightgbm.dask.DaskLGBMClassifier` with the learner's own LightGBM parameters, as many threads
  per worker as the worker has (one in a local cluster); its booster is the same kind of model as one
  trained in one process. Which partitions each worker holds is the scheduler's choice, so two runs on the
  same data may train slightly different trees.
- the evaluation, gate and card use at most `eval_rows` rows of the test split, collected to the client:
  all of it when it is smaller, else the rows with the smallest seeded hash of their ID.

Dask is imported here only, when a run is given `--cluster`.
"""

import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from creditops.config.modelling import ModellingConfig
from creditops.data.checks import EXAMPLES, CheckFailure, DataCheckError, Part, check_data, duplicate_ids
from creditops.data.checks import merge_failures as merged
from creditops.data.contract import Contract
from creditops.data.location import DataLocation, parquet_parts, sha256_parts
from creditops.data.split import in_test_part, require_enough_of_each, seeded_hashes
from creditops.errors import ConfigError, CreditopsError, DataError, first_line
from creditops.modelling.estimators import fitted
from creditops.modelling.learners.lightgbm import LightGBMParams, booster_settings
from creditops.scoring.partitioned import footers
from creditops.steps import common
from creditops.steps.data_prep import split_record
from creditops.steps.manifests import DataManifest
from creditops.steps.train import Training, training_record
from creditops.tracking import names
from creditops.tracking.runs import RunLog

if TYPE_CHECKING:
    from distributed import Client

EVAL_ROWS: Final = 1_000_000
"""Test rows the evaluation, gate and card use at most: 1 M rows of 25 columns are 200 MB on the client."""
LIGHTGBM_LOGGER: Final = "lightgbm.dask"
"""The logger LightGBM's messages go to while a cluster trains, at WARNING: not its network setup's chatter."""
SAMPLE_SALT: Final = 0x5A4D504C
"""Mixed into the split seed to choose the evaluation sample: its hash is not the split's."""
LIGHTGBM_ONLY: Final = "--cluster trains LightGBM only; set train.algorithm to lightgbm"


@contextmanager
def cluster_stages(
    cluster: str, data: DataLocation, config: ModellingConfig, eval_rows: int = EVAL_ROWS
) -> Iterator["ClusterStages"]:
    """The pipeline's first stages on the cluster `cluster` names (`creditops run --cluster`, a release in an
    environment whose `compute.dask_scheduler` is set). The learner and the data's parts are checked first:
    a one-line error before any worker starts."""
    from creditops.compute.cluster import connected, requested

    spec = requested(cluster)
    if config.train.algorithm != "lightgbm":
        raise CreditopsError(LIGHTGBM_ONLY)
    parts_with_rows(data, config.contract())
    with connected(spec) as client:
        yield ClusterStages(client, eval_rows)


def parts_with_rows(data: DataLocation, contract: Contract) -> list[DataLocation]:
    """The Parquet parts of `data` that hold rows. Each local part's footer is read first, by the function
    `creditops score --cluster` reads them with (`footers`): a part that is not Parquet or lacks a feature
    column is a one-line DataError naming it before any work is sent out. Parts of 0 rows are left out (Dask
    cannot compute on them beside others; they add no rows); when every part is empty, the first is kept,
    for the `not_empty` check. URIs are read by the workers only."""
    files = parquet_parts(data)
    rows = {path: metadata.num_rows for path, metadata in footers([f for f in files if isinstance(f, Path)], contract)}
    kept = [file for file in files if not isinstance(file, Path) or rows[file] > 0]
    return kept or files[:1]


@contextmanager
def _on_cluster(stage: str) -> Iterator[None]:
    """A stage's failure on the cluster as one line naming the stage: creditops' own errors as they are,
    anything else (a worker lost, a library's error on a worker) as `<stage> failed on the cluster: …`."""
    try:
        yield
    except CreditopsError:
        raise
    except Exception as error:
        raise CreditopsError(f"{stage} failed on the cluster: {type(error).__name__}: {first_line(error)}") from None


@dataclass(frozen=True)
class Checked:
    """Data that passed every check, held by the cluster's workers, and its digest."""

    frame: Any
    """The dask DataFrame, persisted, with whole-number columns as int64 (as `read_table` reads them)."""
    digest: str
    rows: int


@dataclass(frozen=True)
class ClusterSplit:
    """The split on the cluster: its train part there, its test part's evaluation sample here."""

    train: Any
    """The dask DataFrame of the train part."""
    test: pd.DataFrame
    """The rows the evaluation, gate and card use (see `evaluated_on`)."""
    manifest: DataManifest
    log: RunLog
    evaluated_on: str | None


class ClusterStages:
    """The first stages of the pipeline on the cluster `client` is connected to (see pipeline.Stages)."""

    def __init__(self, client: "Client", eval_rows: int = EVAL_ROWS) -> None:
        self.client: Any = client  # distributed's Client has no type hints: Any at this one boundary
        self.eval_rows = eval_rows

    @_on_cluster("check data")
    def check(self, data: DataLocation, contract: Contract) -> Checked:
        """The Parquet data at `data` (a file, a folder of them or a glob), read and checked on the cluster."""
        import dask.dataframe as dd

        files = parts_with_rows(data, contract)
        digest = sha256_parts(data)  # of every part as named, the empty ones too
        # Workers read the files themselves: local paths absolute, since a worker's folder is not this one's
        paths = [str(file.resolve()) if isinstance(file, Path) else file for file in files]
        frame = self.client.persist(dd.read_parquet(paths))
        profiles = self._each(frame, _profile)
        rows = sum(count for count, _ in profiles)
        whole = frozenset.intersection(*(columns for _, columns in profiles))
        if rows == 0:
            raise DataCheckError((CheckFailure("not_empty", "*", 0),))
        converted = [name for name in frame.columns if name in whole and not _integral(frame.dtypes[name])]
        if converted:
            meta = frame._meta.astype(dict.fromkeys(converted, "int64"))
            frame = self.client.persist(frame.map_partitions(_as_integers, converted, meta=meta))
        starts = np.cumsum([0, *(count for count, _ in profiles)])[:-1] + 1
        parts = [Part(int(first), whole) for first in starts]
        found = self._each(frame, check_data, contract, parts=parts)
        failures = merged([*found, self._duplicates(frame, contract)])
        if failures:
            raise DataCheckError(failures)
        return Checked(frame, digest, rows)

    @_on_cluster("prep")
    def prep(self, checked: Checked, source: str, config: ModellingConfig, contract: Contract) -> ClusterSplit:
        """The split of checked data by a seeded hash (see `in_test_part`), its exact counts and the
        evaluation sample of its test part."""
        settings = config.data
        frame = checked.frame
        ratio, seed = settings.test_train_ratio, settings.random_seed
        mask = frame.map_partitions(_in_test, contract, ratio, seed, meta=("in_test", "bool"))
        counts = np.sum(self._each(frame, _split_counts, contract, ratio, seed), axis=0)
        rows, defaults, test_rows, test_defaults = (int(count) for count in counts)
        require_enough_of_each(defaults, rows - defaults, ratio, source)
        train_rows = rows - test_rows
        parts = {
            "train": (train_rows - (defaults - test_defaults), defaults - test_defaults),
            "test": (test_rows - test_defaults, test_defaults),
        }
        lacking = [name for name, classes in parts.items() if min(classes) == 0]
        if lacking:
            raise DataError(
                f"{source}: the hashed split (test_train_ratio {ratio:g}, seed {seed}) left the {lacking[0]} part"
                " with one class; use more data"
            )
        manifest, log = split_record(
            checked.digest, source, config, rows=rows, train_rows=train_rows, defaults=defaults
        )
        test = frame[mask]
        sample, evaluated_on = self._sample(test, test_rows, contract, seed)
        where = {names.CLUSTER_SCHEDULER: self.client.scheduler.address, "evaluation.rows": evaluated_on}
        log = replace(log, params={**log.params, **where})
        return ClusterSplit(self.client.persist(frame[~mask]), sample, manifest, log, evaluated_on)

    @_on_cluster("train")
    def train(self, prepared: ClusterSplit, config: ModellingConfig, commit: str, contract: Contract) -> Training:
        """The configured LightGBM fitted on the train part by the cluster's workers."""
        from lightgbm.dask import DaskLGBMClassifier

        settings = config.train
        if settings.algorithm != "lightgbm":
            raise ConfigError(LIGHTGBM_ONLY)
        params = settings.learner_params()
        if not isinstance(params, LightGBMParams):  # pragma: no cover - the algorithm names its params
            raise ConfigError(LIGHTGBM_ONLY)
        shared = booster_settings(params, contract, seed=settings.random_seed, threads=1)
        # The seed goes as scikit-learn's random_state; lightgbm.dask sets each worker's num_threads to the
        # worker's own thread count (`dask worker --nthreads 1`, one per local worker process).
        for local in ("seed", "num_threads"):
            shared.pop(local)
        features = pd.DataFrame({name: pd.Series(dtype=np.float32) for name in contract.features})
        matrix = prepared.train.map_partitions(_features, contract, meta=features)
        labels = prepared.train.map_partitions(_labels, contract, meta=("label", "int64"))
        classifier = DaskLGBMClassifier(
            client=self.client,
            n_estimators=params.n_estimators,
            random_state=settings.random_seed,
            **shared,
        )
        with _lightgbm_quiet_here(), warnings.catch_warnings():  # it warns of its own n_jobs, replaced as above
            warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored", category=UserWarning)
            classifier.fit(matrix, labels, categorical_feature=list(contract.categorical_features) or "auto")
        model = fitted("lightgbm", classifier.booster_, contract)
        return training_record(model, prepared.manifest.train_rows or 0, prepared.manifest, config, commit)

    def _each(self, frame: Any, function: Any, *arguments: Any, parts: Sequence[Part] | None = None) -> list[Any]:
        """`function(partition, *arguments)` (with `part=` its Part) of every partition, in order, on the
        workers."""
        from dask.delayed import delayed

        tasks = [
            delayed(function)(partition, *arguments, **({} if parts is None else {"part": parts[number]}))
            for number, partition in enumerate(frame.to_delayed())
        ]
        return list(self.client.gather(self.client.compute(tasks)))

    def _duplicates(self, frame: Any, contract: Contract) -> tuple[CheckFailure, ...]:
        """duplicate_ids across partitions: every row whose ID another row has, with the first of them."""
        column = contract.id_column
        if column is None or column not in frame.columns:
            return ()
        counts = frame[column].value_counts(dropna=False)
        repeated = counts[counts > 1]
        rows = int(self.client.compute(repeated.sum()).result())
        if rows == 0:
            return ()
        ids = frozenset(self.client.compute(repeated).result().index)  # few: data that fail the checks
        firsts = self._each(frame, _first_with, column, ids)
        return (duplicate_ids(column, rows, [value for found in firsts for value in found][:EXAMPLES]),)

    def _sample(self, test: Any, test_rows: int, contract: Contract, seed: int) -> tuple[pd.DataFrame, str | None]:
        """The test rows the evaluation uses, collected to the client, and what they are."""
        if test_rows <= self.eval_rows:
            collected: pd.DataFrame = self.client.compute(test).result().reset_index(drop=True)
            return collected, f"all {test_rows:,} rows of the test split, collected from the cluster"
        keyed = test.map_partitions(_with_key, contract, seed ^ SAMPLE_SALT)
        chosen = self.client.compute(keyed.nsmallest(self.eval_rows, "_sample_key")).result()
        sample: pd.DataFrame = chosen.drop(columns="_sample_key").reset_index(drop=True)
        common.log.info("evaluate: a seeded sample of %s of the %s test rows", len(sample), test_rows)
        return sample, (
            f"a seeded sample of {len(sample):,} of the {test_rows:,} rows of the test split (the rows with"
            f" the smallest hash of their ID and seed {seed}), collected from the cluster"
        )


class _QuietLightGBM:
    """LightGBM's logger: its info to the `lightgbm.dask` logger (at WARNING: dropped), its warnings as
    Python warnings (as its own default logger gives them)."""

    def info(self, message: str) -> None:
        logging.getLogger(LIGHTGBM_LOGGER).info(message)

    def warning(self, message: str) -> None:
        warnings.warn(message, stacklevel=3)


@contextmanager
def _lightgbm_quiet_here() -> Iterator[None]:
    """LightGBM's Python messages in this process to `_QuietLightGBM` while the block runs ("Finding random
    open ports for workers" is info), then its logger and the logger's level as they were. (Its native
    network messages are the workers': a local cluster's workers print nowhere, see `compute.cluster`.)"""
    import lightgbm
    import lightgbm.basic

    saved = [getattr(lightgbm.basic, name) for name in ("_LOGGER", "_INFO_METHOD_NAME", "_WARNING_METHOD_NAME")]
    logger = logging.getLogger(LIGHTGBM_LOGGER)
    level = logger.level
    logger.setLevel(logging.WARNING)
    lightgbm.register_logger(_QuietLightGBM())
    try:
        yield
    finally:
        lightgbm.register_logger(*saved)  # lightgbm has no getter: its own module's names, read above
        logger.setLevel(level)


def _integral(dtype: Any) -> bool:
    return bool(pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))


def _profile(frame: pd.DataFrame) -> tuple[int, frozenset[str]]:
    """A partition's rows and its columns that hold a whole number in every row (what `read_table` casts
    to int64 when the whole column does)."""
    whole = set()
    for name in frame.columns:
        numeric = pd.to_numeric(frame[name], errors="coerce")
        if bool(numeric.notna().all()) and bool((numeric % 1 == 0).all()):
            whole.add(str(name))
    return len(frame), frozenset(whole)


def _as_integers(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame.assign(**{name: pd.to_numeric(frame[name]).astype("int64") for name in columns})


def _in_test(frame: pd.DataFrame, contract: Contract, ratio: float, seed: int) -> pd.Series:
    mask = in_test_part(frame, contract.labels(frame), contract.id_column, test_ratio=ratio, seed=seed)
    return pd.Series(mask, index=frame.index, name="in_test")


def _split_counts(frame: pd.DataFrame, contract: Contract, ratio: float, seed: int) -> np.ndarray:
    """rows, defaults, test rows and test defaults of a partition."""
    labels = contract.labels(frame)
    test = in_test_part(frame, labels, contract.id_column, test_ratio=ratio, seed=seed)
    return np.array([len(frame), labels.sum(), test.sum(), labels[test].sum()], dtype=np.int64)


def _features(frame: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    matrix = contract.feature_matrix(frame, np.float32)
    return pd.DataFrame(matrix, index=frame.index, columns=list(contract.features))


def _labels(frame: pd.DataFrame, contract: Contract) -> pd.Series:
    return pd.Series(contract.labels(frame), index=frame.index, name="label")


def _first_with(frame: pd.DataFrame, column: str, ids: frozenset[object]) -> list[object]:
    """The IDs of the partition's first rows whose ID is one of `ids`."""
    return list(frame[column][frame[column].isin(ids)].head(EXAMPLES))


def _with_key(frame: pd.DataFrame, contract: Contract, seed: int) -> pd.DataFrame:
    return frame.assign(_sample_key=seeded_hashes(frame, contract.id_column, seed))
