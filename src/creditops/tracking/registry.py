"""The MLflow model registry: log and register models with lineage, aliases, champion lookup, loading.

Models go into MLflow in formats that run no code on load (see modelling/learners/): the LightGBM flavor
with the native text model, the scikit-learn flavor with skops and the explicit allow-list, and for the
learners MLflow has no safe flavor for, creditops' own (a pyfunc over the learner's JSON file, loaded by
`_load_pyfunc` here). Loading finds the learner from the flavor and uses its safe loader, so it needs no
opt-in to unpickling.
"""

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module, metadata
from pathlib import Path
from typing import Any, Final

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import Model, ModelSignature
from mlflow.types import ColSpec, Schema, TensorSpec

from creditops.context import redacted
from creditops.data.contract import ARTIFACT as CONTRACT_ARTIFACT
from creditops.data.contract import Contract, contract_for_features, contract_from_json
from creditops.errors import CreditopsError
from creditops.files import atomic_path, exclusive_lock, scratch_dir
from creditops.modelling.estimators import TrainedModel
from creditops.modelling.learners import LEARNERS, listing
from creditops.modelling.learners import pyfunc as creditops_flavor
from creditops.modelling.learners.base import Learner
from creditops.tracking import integrity
from creditops.tracking.names import ALIAS_TAG_PREFIX, CHAMPION, FINGERPRINT, MODEL_FILES
from creditops.tracking.store import connect, lock_path, sqlite_path, store_exists

ARTIFACT_NAME: Final = "model"


@dataclass(frozen=True)
class VersionInfo:
    """One registered model version, with its aliases and tags."""

    name: str
    version: str
    aliases: tuple[str, ...]
    tags: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    created_ms: int = 0

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


_SIGNATURE_TYPES: Final = {"integer": "long", "number": "double", "boolean": "boolean", "date": "string"}
CONTRACT_FILE: Final = f"extra_files/{CONTRACT_ARTIFACT}"
"""Where the model's data contract lies in its MLflow model folder (MLflow's place for extra files)."""


def signature(contract: Contract) -> ModelSignature:
    """Inputs: the contract's features with their types (text categories as strings); output: the
    probability of default."""
    inputs = Schema([ColSpec(_column_type(contract, name), name) for name in contract.features])
    outputs = Schema([TensorSpec(np.dtype("float64"), (-1,))])
    return ModelSignature(inputs=inputs, outputs=outputs)


def _column_type(contract: Contract, name: str) -> str:
    column = contract.columns[name]
    if column.type == "category":
        return "string" if column.text_categories else "long"
    return _SIGNATURE_TYPES[column.type]


def save_model_dir(model: TrainedModel, target: Path) -> Path:
    """Write an MLflow model directory at `target` atomically (replacing an older one)."""
    with atomic_path(target) as temporary:
        _flavor_call(model, "save_model", path=str(temporary))
    return target


def log_model(model: TrainedModel) -> str:
    """Log `model` to the active run; returns its model URI."""
    return str(_flavor_call(model, "log_model", name=ARTIFACT_NAME).model_uri)


def _flavor_call(model: TrainedModel, function: str, **where: str) -> Any:
    with scratch_dir("creditops-contract-") as scratch:
        contract_file = Path(scratch) / CONTRACT_ARTIFACT
        contract_file.write_text(model.contract.canonical(), encoding="utf-8")
        return _flavor_call_with(model, function, [str(contract_file)], **where)


def _flavor_call_with(model: TrainedModel, function: str, extra_files: list[str], **where: str) -> Any:
    learner = model.learner
    common = {
        "signature": signature(model.contract),
        "extra_files": extra_files,
        "pip_requirements": [f"{name}=={metadata.version(name)}" for name in learner.requirements],
        **where,
    }
    native = learner.native_flavor
    if native is None:
        return getattr(creditops_flavor, function)(model=model, loader_module=__name__, **common)
    return getattr(import_module(f"mlflow.{native.name}"), function)(model.estimator, **native.options, **common)


class Registry:
    """The model registry of one MLflow store: every call goes to `uri`, whatever else the process did."""

    def __init__(self, uri: str, user: str | None = None) -> None:
        self.uri = uri
        self.user = user
        """Who registers here: the store's authenticated account, else this system's user (see `registrant`)."""

    @property
    def registrant(self) -> str:
        import getpass

        return self.user or getpass.getuser()

    def _client(self) -> mlflow.MlflowClient:
        connect(self.uri)
        return mlflow.MlflowClient(self.uri, self.uri)

    def register(self, model_uri: str, name: str, tags: dict[str, str]) -> VersionInfo:
        """Create a new version of `name` with all its tags in one call: complete, or absent. The SHA-256 of
        each of its files, as uploaded, is one of them."""
        connect(self.uri)
        with self._downloaded(model_uri) as folder:
            digests = integrity.file_digests(folder)
        tags = {**tags, MODEL_FILES: integrity.encode(digests)}
        version = mlflow.register_model(model_uri, name, tags={k: str(v) for k, v in tags.items()})
        return self.describe(name, str(version.version))

    def set_alias(self, name: str, alias: str, version: str) -> None:
        """Point `alias` at `version`; in a registry without aliases, as a registered-model tag."""
        client = self._client()
        try:
            client.set_registered_model_alias(name, alias, version)
        except MlflowException as error:
            if _raced(error):  # another process created the alias between MLflow's read and insert: now it updates
                client.set_registered_model_alias(name, alias, version)
                return
            if not _unsupported(error):
                raise
            client.set_registered_model_tag(name, f"{ALIAS_TAG_PREFIX}{alias}", version)

    def model_tags(self, name: str) -> dict[str, str]:
        """The tags of registered model `name`; empty when it does not exist."""
        try:
            return dict(self._client().get_registered_model(name).tags or {})
        except MlflowException as error:
            if error.error_code == "RESOURCE_DOES_NOT_EXIST":
                return {}
            raise unanswered(error, self.uri, f"read the tags of {name}") from error

    def set_model_tag(self, name: str, key: str, value: str, action: str, role: str | None = None) -> None:
        """Set a tag of registered model `name`, made first when absent; a refusal names `action` and `role`."""
        client = self._client()
        try:
            try:
                client.set_registered_model_tag(name, key, value)
            except MlflowException as error:
                if error.error_code != "RESOURCE_DOES_NOT_EXIST":
                    raise
                client.create_registered_model(name)
                client.set_registered_model_tag(name, key, value)
        except MlflowException as error:
            raise unanswered(error, self.uri, action, role) from error

    def set_tags(self, name: str, version: str, tags: dict[str, str]) -> None:
        client = self._client()
        for key, value in tags.items():
            client.set_model_version_tag(name, version, key, str(value))

    def attach_artifact(self, run_id: str, path: Path, folder: str) -> None:
        """Add a file to a run's artifacts (e.g. the gate evidence of the version it produced)."""
        try:
            self._client().log_artifact(run_id, str(path), folder)
        except (MlflowException, OSError) as error:
            from creditops.tracking.team_users import refusal

            refused = refusal(error, f"write to run {run_id}")
            if refused is not None:
                raise refused from error
            raise

    def run_artifact_texts(self, run_id: str, folder: str) -> list[tuple[str, str]]:
        """(name, text) of each file in a run's artifact folder, by name; empty when there is none."""
        connect(self.uri)
        with scratch_dir("creditops-artifacts-") as scratch:
            try:
                local = mlflow.artifacts.download_artifacts(
                    run_id=run_id, artifact_path=folder, dst_path=str(scratch), tracking_uri=self.uri
                )
            except (MlflowException, OSError):
                return []
            files = sorted(path for path in Path(local).rglob("*") if path.is_file())
            return [(path.name, path.read_text(encoding="utf-8")) for path in files]

    def describe(self, name: str, version: str) -> VersionInfo:
        client = self._client()
        try:
            found = client.get_model_version(name, version)
        except MlflowException as error:
            if error.error_code == "RESOURCE_DOES_NOT_EXIST":
                raise CreditopsError(f"model {name!r} has no version {version} in {redacted(self.uri)}") from error
            raise unanswered(error, self.uri, f"read version {version} of {name}") from error
        return _info(found, self._aliases(client, name).get(str(version), ()))

    def versions(self, name: str) -> list[VersionInfo]:
        """All versions of `name`, newest first; empty when the store or the model does not exist. A store
        that cannot answer (no account, no right, down) stops the caller: it is never "no versions"."""
        if not store_exists(self.uri):
            return []
        client = self._client()
        try:
            found = client.search_model_versions(f"name = '{_quoted(name)}'")
        except MlflowException as error:
            raise unanswered(error, self.uri, f"read the versions of {name}") from error
        aliases = self._aliases(client, name)
        infos = [_info(item, aliases.get(str(item.version), ())) for item in found]
        return sorted(infos, key=lambda info: int(info.version), reverse=True)

    def names(self) -> list[str]:
        if not store_exists(self.uri):
            return []
        try:
            return sorted(model.name for model in self._client().search_registered_models())
        except MlflowException as error:
            raise unanswered(error, self.uri, "list the registered models") from error

    def _aliases(self, client: mlflow.MlflowClient, name: str) -> dict[str, tuple[str, ...]]:
        try:
            return _aliases(client.get_registered_model(name))
        except MlflowException as error:
            if error.error_code == "RESOURCE_DOES_NOT_EXIST":
                return {}
            raise unanswered(error, self.uri, f"read the aliases of {name}") from error

    def champion(self, name: str) -> VersionInfo | None:
        """The version with alias `champion`; where none, the latest registered version (as the seed)."""
        found = self.versions(name)
        for info in found:
            if CHAMPION in info.aliases:
                return info
        return found[0] if found else None

    def require(self, name: str) -> None:
        """Nothing when `name` is a registered model, else one line listing the registered ones, closest first."""
        known = self.names()
        if name not in known:
            raise CreditopsError(_unknown_model(name, known, self.uri))

    def resolve(self, reference: str, default_name: str | None = None) -> VersionInfo:
        """A version from `NAME`, `NAME@ALIAS`, `NAME/VERSION` or `models:/…` of those, or a bare `VERSION` of
        `default_name` (the project's model) when one is given; a name that is not registered is refused as
        such (with the registered names), never as a missing alias or version."""
        text = reference.strip().removeprefix("models:/")
        if not text.split("@", 1)[0].split("/", 1)[0].strip():
            raise CreditopsError(
                f"no model name in {reference!r}: give NAME, NAME@ALIAS, NAME/VERSION or a bare VERSION"
            )
        if default_name is not None and text.isdigit():
            text = f"{default_name}/{text}"
        if "@" in text:
            name, alias = text.split("@", 1)
            versions = self.versions(name)
            match = [info for info in versions if alias in info.aliases]
            aliases = sorted({alias for info in versions for alias in info.aliases})
            missing = f"model {name!r} has no version with alias {alias!r}" + _listing("its aliases", aliases)
        elif "/" in text:
            name, number = text.split("/", 1)
            versions = self.versions(name)
            match = [info for info in versions if info.version == number]
            existing = sorted((info.version for info in versions), key=lambda v: int(v) if v.isdigit() else 0)
            missing = f"model {name!r} has no version {number}" + _listing("its versions", existing)
        else:
            name = text
            versions = self.versions(name)
            match = versions[:1]
            missing = f"model {name!r} has no versions yet"
        if not match:
            if not versions:  # no version at all: most often a misspelt name, or another environment's store
                self.require(name)
            raise CreditopsError(missing)
        return match[0]

    def run_params(self, run_id: str) -> dict[str, str]:
        """The parameters logged into run `run_id`; empty when the run is gone."""
        try:
            return dict(self._client().get_run(run_id).data.params)
        except MlflowException as error:
            if error.error_code == "RESOURCE_DOES_NOT_EXIST":
                return {}
            raise unanswered(error, self.uri, f"read run {run_id}") from error

    def contract(self, version: VersionInfo) -> Contract | None:
        """The data contract the version carries (its files checked); None for one registered before
        contracts travelled with the model."""
        with self.verified_files(version) as folder:
            return _carried(folder)

    def find_by_fingerprint(self, name: str, fingerprint: str) -> VersionInfo | None:
        """The first version registered with `fingerprint` (the same data, config and code)."""
        same = [info for info in self.versions(name) if info.tags.get(FINGERPRINT) == fingerprint]
        return min(same, key=lambda info: int(info.version)) if same else None

    def delete_version(self, name: str, version: str) -> None:
        self._client().delete_model_version(name, version)

    @contextmanager
    def registration_lock(self, name: str) -> Iterator[None]:
        """Serialise registrations of `name` across processes on an embedded store (a file lock).

        A shared server has no lock for us to take: there `register` checks again after registering,
        and the first version of a fingerprint wins.
        """
        if sqlite_path(self.uri) is None:
            yield
            return
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        with exclusive_lock(lock_path(self.uri, f"register-{safe}")):
            yield

    def load(self, model: "str | VersionInfo") -> TrainedModel:
        """Load a model from any MLflow model URI, registered version or local MLflow model directory,
        safely. A registered version's files are checked against the digests recorded when it was
        registered (a version already looked up is not looked up again)."""
        if isinstance(model, str) and Path(model).is_dir():
            return load_model_dir(Path(model))
        with self.verified_files(model) as folder:
            return load_model_dir(folder)

    @contextmanager
    def verified_files(self, model: "str | VersionInfo") -> Iterator[Path]:
        """A private copy of the model's files, checked against the digests of its registration."""
        if isinstance(model, VersionInfo):
            version: VersionInfo | None = model
        else:
            version = self.resolve(model) if model.startswith("models:/") else None
        with self._downloaded(version.uri if version else str(model)) as folder:
            recorded = version.tags.get(MODEL_FILES) if version else None
            if version is not None and recorded is not None:
                where = f"tag {MODEL_FILES} of {version.uri}"
                integrity.verify(folder, integrity.decode(recorded, where), version.uri, "when it was registered")
            yield folder

    @contextmanager
    def _downloaded(self, model_uri: str) -> Iterator[Path]:
        connect(self.uri)
        with scratch_dir("creditops-model-") as scratch:
            try:
                path = mlflow.artifacts.download_artifacts(
                    artifact_uri=model_uri, dst_path=str(scratch), tracking_uri=self.uri
                )
            except MlflowException as error:
                raise unanswered(error, self.uri, f"download model {model_uri}") from error
            yield Path(path)


@dataclass(frozen=True)
class ModelReference:
    """What a model URI names: a registered version (aliases pinned to their version) or a local folder."""

    uri: str
    version: VersionInfo | None

    @property
    def version_label(self) -> str:
        return "local" if self.version is None else self.version.version


def locate(registry: Registry, model_uri: str) -> ModelReference:
    """The exact model `model_uri` names (`models:/NAME@ALIAS`, `models:/NAME/VERSION`, a model folder).

    An alias is resolved to its version now, so whatever is started from the answer serves the same
    model even after the alias has moved.
    """
    if model_uri.startswith("models:/"):
        version = registry.resolve(model_uri)
        return ModelReference(version.uri, version)
    path = Path(model_uri)
    if not path.exists():
        raise CreditopsError(f"no model at {model_uri}: use models:/NAME@ALIAS, models:/NAME/VERSION or a model folder")
    return ModelReference(str(path.resolve()), None)


def load_model_dir(path: Path) -> TrainedModel:
    """A model from a local MLflow model directory, through its learner's safe loader only."""
    if not (path / "MLmodel").is_file():
        raise CreditopsError(f"not an MLflow model directory (no MLmodel file): {path}")
    try:
        flavors = Model.load(str(path / "MLmodel")).flavors
    except (MlflowException, OSError, ValueError, TypeError) as error:
        raise CreditopsError(f"cannot read {path / 'MLmodel'}: {str(error).splitlines()[0]}") from error
    learner, flavor, data = _learner_of(path, flavors)
    estimator = learner.load(_inside(path, flavor.get(data)), _carried(path))
    return TrainedModel(learner.name, estimator, _contract_of(path, *learner.inputs(estimator)))


def _learner_of(path: Path, flavors: Mapping[str, Any]) -> tuple[Learner, Mapping[str, Any], str]:
    """The learner that wrote the folder, its flavor's entries and the entry naming the model file."""
    own = flavors.get(creditops_flavor.FLAVOR)
    if isinstance(own, dict):
        name = own.get("learner")
        if not isinstance(name, str) or name not in LEARNERS:
            raise CreditopsError(
                f"{path / 'MLmodel'} names learner {name!r}, which this creditops does not have ({listing()}):"
                " install the creditops that registered it"
            )
        return LEARNERS[name], own, creditops_flavor.DATA
    for learner in LEARNERS.values():
        native = learner.native_flavor
        entries = flavors.get(native.name) if native is not None else None
        if (
            native is not None
            and isinstance(entries, dict)
            and all(entries.get(key) == value for key, value in native.requires.items())
        ):
            return learner, entries, native.data
    raise CreditopsError(
        f"unsupported model at {path}: creditops loads the models of its learners ({listing()}) in their safe"
        " formats only"
    )


def _carried(folder: Path) -> Contract | None:
    """The data contract the folder carries, for the learners that read their file through it."""
    if not (folder / CONTRACT_FILE).is_file():
        return None
    return contract_from_json(_inside(folder, CONTRACT_FILE).read_text(encoding="utf-8"), str(folder))


def _load_pyfunc(data_path: str) -> "_Pyfunc":
    """MLflow's entry to a folder written with creditops' flavor (`mlflow.pyfunc.load_model`): the model of
    the folder that holds `data_path` (`<folder>/data/<file>`), read exactly as creditops reads it."""
    return _Pyfunc(load_model_dir(Path(data_path).parents[1]))


class _Pyfunc:
    """What MLflow's pyfunc calls: the probability of default of each row of a frame of the features."""

    def __init__(self, model: TrainedModel) -> None:
        self.model = model

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> np.ndarray:
        return self.model.predict_proba(pd.DataFrame(model_input))


def _contract_of(folder: Path, names: list[str] | None, count: int) -> Contract:
    """The data contract the model folder carries, which must name the model's features; a model registered
    before contracts travelled carries none and is read by its features (UCI's, with or without the
    protected columns). `names` is None for a model that keeps no feature names (scikit-learn)."""
    if not (folder / CONTRACT_FILE).is_file():
        return contract_for_features(names, count, str(folder))
    contract = contract_from_json(_inside(folder, CONTRACT_FILE).read_text(encoding="utf-8"), str(folder))
    if len(contract.features) != count or (names is not None and list(names) != list(contract.features)):
        raise CreditopsError(
            f"{folder}: the model's {count} features are not the {len(contract.features)} of its data contract"
            f" ({CONTRACT_FILE}): the folder was altered; register the model again"
        )
    return contract


def _inside(folder: Path, name: object) -> Path:
    """The model file `name` that MLmodel points at, which must be a file inside the model folder."""
    if not isinstance(name, str) or not name:
        raise CreditopsError(f"{folder / 'MLmodel'} names no model file")
    root = folder.resolve()
    target = (root / name).resolve()
    if not target.is_relative_to(root):
        raise CreditopsError(f"{folder / 'MLmodel'} points outside its folder ({name!r}): refusing to read it")
    if not target.is_file():
        raise CreditopsError(f"{folder / 'MLmodel'} names {name!r}, which is not a file in the model folder")
    return target


def unanswered(error: MlflowException, uri: str, action: str, role: str | None = None) -> CreditopsError:
    """A store that did not answer, as one line: 401/403 name the variables or the role; anything else
    (5xx, no connection) says the store could not be asked, so no caller reads it as an empty answer."""
    from creditops.tracking.team_users import refusal

    refused = refusal(error, action, role)
    if refused is not None:
        return refused
    first = (str(error.message).strip().splitlines() or ["no answer"])[0][:300]
    return CreditopsError(
        f"could not {action}: the store at {redacted(uri)} did not answer ({first}); check it runs"
        " ('creditops server status') and try again"
    )


def _aliases(model: Any) -> dict[str, tuple[str, ...]]:
    pointed = {
        **{
            key.removeprefix(ALIAS_TAG_PREFIX): value
            for key, value in (model.tags or {}).items()
            if key.startswith(ALIAS_TAG_PREFIX)
        },
        **(model.aliases or {}),
    }
    by_version: dict[str, list[str]] = {}
    for alias, version in pointed.items():
        by_version.setdefault(str(version), []).append(alias)
    return {version: tuple(sorted(names)) for version, names in by_version.items()}


def _raced(error: MlflowException) -> bool:
    """A SQL store refused a row another process inserted first (its unique constraint): a retry sees it."""
    text = str(error)
    return "IntegrityError" in text or "UNIQUE constraint failed" in text or "duplicate key value" in text


def _unsupported(error: MlflowException) -> bool:
    """The registry has no aliases (Azure ML's answers 'not supported'; others lack the endpoint)."""
    text = str(error).lower()
    return error.error_code in {"ENDPOINT_NOT_FOUND", "NOT_IMPLEMENTED", "FEATURE_DISABLED"} or any(
        phrase in text for phrase in ("not supported", "not implemented", "unsupported")
    )


def _info(item: Any, aliases: tuple[str, ...] | None = None) -> VersionInfo:
    return VersionInfo(
        name=item.name,
        version=str(item.version),
        aliases=tuple(aliases if aliases is not None else getattr(item, "aliases", ()) or ()),
        tags=dict(item.tags or {}),
        run_id=item.run_id,
        created_ms=int(item.creation_timestamp or 0),
    )


def _unknown_model(name: str, known: list[str], uri: str) -> str:
    """'no registered model named X in URI: the registered models are A, B' (the closest to X first, at most
    10), or ': it has no registered models yet'."""
    import difflib

    where = f"no registered model named {name!r} in {redacted(uri)}"
    if not known:
        return f"{where}: it has no registered models yet"
    close = difflib.get_close_matches(name, known, n=len(known), cutoff=0.6)
    ordered = [*close, *(each for each in known if each not in close)]
    shown = ", ".join(ordered[:10]) + (f" and {len(ordered) - 10} more" if len(ordered) > 10 else "")
    return f"{where}: the registered models are {shown}"


def _listing(what: str, items: list[str]) -> str:
    """': its versions are 1, 2, 3' (the last 10), or ': it has none yet'."""
    if not items:
        return f": it has no {what.removeprefix('its ')} yet"
    shown = items[-10:]
    return f": {what} are {', '.join(shown)}" if len(items) <= 10 else f": {what} end with {', '.join(shown)}"


def _quoted(name: str) -> str:
    return name.replace("'", "\\'")
