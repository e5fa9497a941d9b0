"""The data contract: what each column of a portfolio is, which may score, and how values are judged.

One YAML file (the UCI one ships as `config/schema.yaml` and inside the package) declares every column's
role, type, allowed categories or range and whether it may be missing; the label's positive value; the
monotone direction of features; the reason-code groups; the slices the gate judges. Protected columns
(sex, marital status, age) are validated and kept to measure fairness: they never score.

The model sees one float matrix: numbers as they are, integer categories as their codes, and text
categories as their position in the contract's list (LightGBM and XGBoost are told they are categorical).
"""

import hashlib
import json
import math
import re
import string
from collections.abc import Hashable
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from creditops.config.validation import read_config_text, validated
from creditops.errors import ConfigError

Role = Literal["feature", "protected", "id", "label", "date", "ignore"]
ColumnType = Literal["integer", "number", "category", "boolean", "date"]
Direction = Literal["increasing", "decreasing"]
Category = int | str
BUILT_IN: Final = Path(__file__).with_name("uci_schema.yaml")
"""The UCI "default of credit card clients" contract, used where a project declares none."""
ARTIFACT: Final = "schema.json"
"""The contract's name inside every registered model's folder."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    """An inclusive range of a number column that forms one group (an age band)."""

    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> "Band":
        if self.min > self.max:
            raise ValueError(f"a band's min ({self.min:g}) is above its max ({self.max:g})")
        return self


class Column(_Strict):
    """One column of the portfolio."""

    role: Role = Field("feature", description="feature scores; protected measures fairness only; id, label, date")
    type: ColumnType = Field(description="integer, number, category, boolean or date")
    categories: list[Category] | None = Field(None, description="Allowed values of a category column")
    range: tuple[float | None, float | None] | None = Field(
        None, description="Inclusive [low, high] of an integer or number column (null: unbounded)"
    )
    missing: bool = Field(False, description="Whether an empty value is allowed")
    description: str = Field("", description="What the column means, for people")
    monotone: Direction | None = Field(
        None, description="increasing: a higher value never lowers the risk; decreasing: never raises it"
    )

    @field_validator("categories", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        if isinstance(value, list) and any(isinstance(item, bool) for item in value):
            raise ValueError(
                "categories read as booleans: YAML reads unquoted yes, no, on, off, true and false so;"
                " quote them ('yes') or write 1 and 0"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Column":
        if self.type == "category":
            if not self.categories:
                raise ValueError("a category column needs its list of categories")
            if len({type(value) for value in self.categories}) > 1:
                raise ValueError("categories mix numbers and text: quote them all ('1') or write them all as numbers")
            if len(set(map(str, self.categories))) != len(self.categories):
                raise ValueError("categories are listed twice")
            if self.range is not None:
                raise ValueError("a category column has categories, not a range")
        elif self.categories is not None:
            raise ValueError(f"only category columns have categories, not {self.type} ones")
        if self.range is not None:
            if self.type not in ("integer", "number"):
                raise ValueError(f"only integer or number columns have a range, not {self.type} ones")
            if any(bound is not None and math.isnan(bound) for bound in self.range):
                raise ValueError("a range bound is NaN: write a number, or null for no bound")
            if None not in self.range and self.range[0] > self.range[1]:  # type: ignore[operator]
                raise ValueError(f"range low {self.range[0]} is above high {self.range[1]}")
        if self.monotone is not None and (self.role != "feature" or self.type not in ("integer", "number")):
            raise ValueError("only integer or number features have a monotone direction")
        return self

    @property
    def text_categories(self) -> bool:
        """Categories given as text: the model sees their position in the list."""
        return self.type == "category" and any(isinstance(value, str) for value in self.categories or ())


class Label(_Strict):
    column: str = Field(description="The column that says whether the account defaulted")
    positive: Category = Field(1, description="The label value meaning default (bad): 1, 'bad', 'Yes' …")


class ReasonGroup(_Strict):
    """Features whose contributions are summed into one reason a loan officer can read."""

    code: str = Field(min_length=1)
    columns: list[str] = Field(min_length=1)
    text: str = Field(min_length=1, description="A sentence; {COLUMN} is replaced by the row's value")


SliceGroups = dict[str, list[Category] | Band]
"""Named groups of one column: categories, or a band of a number column."""


class Contract(_Strict):
    """A portfolio's data contract."""

    name: str = Field(min_length=1, description="The portfolio, e.g. uci-credit-default")
    description: str = ""
    label: Label
    columns: dict[str, Column] = Field(min_length=1, description="Every column, in the order requests send them")
    reasons: list[ReasonGroup] = Field(default_factory=list, description="Reason-code groups, features only")
    slices: dict[str, SliceGroups] = Field(
        default_factory=dict, description="Groups the gate and the card judge; protected number columns need bands"
    )
    outcome_date: str = Field(
        "observation_date", description="The outcomes table's column with the date an outcome was observed"
    )

    @model_validator(mode="after")
    def _consistent(self) -> "Contract":
        roles: dict[str, list[str]] = {}
        for name, column in self.columns.items():
            roles.setdefault(column.role, []).append(name)
        for role in ("id", "label"):
            if len(roles.get(role, [])) > 1:
                raise ValueError(f"{len(roles[role])} columns have role {role}: {', '.join(roles[role])}; keep one")
        if not roles.get("feature"):
            raise ValueError("no column has role feature: the model needs at least one")
        label = self.columns.get(self.label.column)
        if label is None or label.role != "label":
            raise ValueError(f"label.column {self.label.column!r} must be a column with role label")
        if label.type != "category" or len(label.categories or ()) != 2:
            raise ValueError(f"the label {self.label.column!r} must be a category column with exactly two values")
        if str(self.label.positive) not in map(str, label.categories or ()):
            raise ValueError(f"label.positive {self.label.positive!r} is not one of {label.categories}")
        if label.missing:
            raise ValueError(f"the label {self.label.column!r} may not be missing: drop the rows without an outcome")
        for name in roles["feature"]:
            if any(mark in name for mark in _LEARNER_UNSAFE):
                raise ValueError(
                    f"feature {name!r} has a character learners refuse in feature names ({' '.join(_LEARNER_UNSAFE)}):"
                    " rename the column in the data and the contract"
                )
        self._check_reasons()
        self._check_slices()
        return self

    def _check_reasons(self) -> None:
        codes = [group.code for group in self.reasons]
        if len(set(codes)) != len(codes):
            raise ValueError("reason codes are listed twice")
        for group in self.reasons:
            try:
                parts = list(string.Formatter().parse(group.text))
            except ValueError as error:
                raise ValueError(f"reason {group.code}: its text is not a valid template ({error})") from None
            named = {field for _, field, _, _ in parts if field}
            for _, field, spec, _ in parts:
                if field == "":
                    raise ValueError(f"reason {group.code}'s text has an empty {{}}: name the feature, as {{PAY_0}}")
                if field is not None and not _short_spec(spec or ""):
                    raise ValueError(
                        f"reason {group.code}'s text formats {{{field}}} with {spec!r}: use a short format such"
                        " as :g or :,.0f"
                    )
            for name in sorted(named):
                if not _plain_field(name):
                    raise ValueError(
                        f"reason {group.code}'s text shows {{{name}}}, which a template reads as an attribute,"
                        " an index or a position: leave that value out of the sentence"
                    )
            for name in sorted(named - set(self.features)):
                raise ValueError(f"reason {group.code}'s text shows {{{name}}}, which is not a feature")
            for name in group.columns:
                column = self.columns.get(name)
                if column is None or column.role != "feature":
                    what = "not a column" if column is None else f"a {column.role} column"
                    raise ValueError(f"reason {group.code} names {name!r}, {what}: only features may be a reason")

    def _check_slices(self) -> None:
        for name, groups in self.slices.items():
            column = self.columns.get(name)
            if column is None or column.role not in ("feature", "protected"):
                raise ValueError(f"slice column {name!r} must be a feature or protected column")
            for label, members in groups.items():
                if isinstance(members, Band) and column.type not in ("integer", "number"):
                    raise ValueError(f"slice {name}={label}: bands are for number columns")
                if isinstance(members, list):
                    unknown = [m for m in members if str(m) not in map(str, column.categories or ())]
                    if column.type != "category" or unknown:
                        raise ValueError(f"slice {name}={label}: {unknown or members} not categories of {name}")
        for name, column in self.columns.items():
            if column.role == "protected" and column.type in ("integer", "number") and name not in self.slices:
                raise ValueError(f"protected number column {name!r} needs bands under slices to form its groups")

    # The views every part reads.

    def role(self, role: Role) -> tuple[str, ...]:
        return tuple(name for name, column in self.columns.items() if column.role == role)

    @cached_property
    def features(self) -> tuple[str, ...]:
        """The model's inputs, in contract order."""
        return self.role("feature")

    @cached_property
    def protected(self) -> tuple[str, ...]:
        return self.role("protected")

    @cached_property
    def request_columns(self) -> tuple[str, ...]:
        """What a scoring request carries, in position order: the features, and the protected columns it
        may add for fairness monitoring."""
        return tuple(name for name, column in self.columns.items() if column.role in ("feature", "protected"))

    @cached_property
    def id_column(self) -> str | None:
        found = self.role("id")
        return found[0] if found else None

    @property
    def label_column(self) -> str:
        return self.label.column

    @cached_property
    def feature_positions(self) -> np.ndarray:
        """Where each feature sits among the request columns."""
        return np.array([self.request_columns.index(name) for name in self.features], dtype=np.intp)

    def bounds(self, name: str) -> tuple[float, float]:
        """The inclusive lowest and highest encoded value of a request column (±inf where unbounded)."""
        column = self.columns[name]
        if column.type == "category":
            codes = self.codes(name)
            return float(min(codes)), float(max(codes))
        if column.type == "boolean":
            return 0.0, 1.0
        low, high = column.range or (None, None)
        return (-np.inf if low is None else float(low)), (np.inf if high is None else float(high))

    def codes(self, name: str) -> tuple[float, ...]:
        """The encoded values a category column may take (its integers, or positions of its text values)."""
        column = self.columns[name]
        if column.text_categories:
            return tuple(float(position) for position in range(len(column.categories or ())))
        return tuple(float(value) for value in column.categories or ())

    def whole(self, name: str) -> bool:
        """Whether the column's encoded values are whole numbers (integers, categories, booleans)."""
        return self.columns[name].type in ("integer", "category", "boolean")

    @cached_property
    def categorical_features(self) -> tuple[str, ...]:
        """Features a tree learner should split as categories (text categories); integer codes stay ordered."""
        return tuple(name for name in self.features if self.columns[name].text_categories)

    @cached_property
    def coded_columns(self) -> frozenset[str]:
        """Request columns whose values are codes (categories, booleans): compared by their counts."""
        return frozenset(name for name in self.request_columns if self.columns[name].type in ("category", "boolean"))

    @cached_property
    def text_columns(self) -> dict[str, dict[str, int]]:
        """Per request column with text categories, each category's code."""
        return {
            name: {str(value): position for position, value in enumerate(self.columns[name].categories or ())}
            for name in self.request_columns
            if self.columns[name].text_categories
        }

    def decoded(self, name: str, value: float) -> Any:
        """A request column's encoded value as the portfolio writes it (a text category, a number)."""
        column = self.columns[name]
        if column.text_categories and np.isfinite(value) and 0 <= value < len(column.categories or ()):
            return (column.categories or [])[int(value)]
        return value

    def monotone_constraints(self) -> list[int]:
        """Per feature, 1 (increasing), -1 (decreasing) or 0, as LightGBM and XGBoost take them."""
        signs = {"increasing": 1, "decreasing": -1, None: 0}
        return [signs[self.columns[name].monotone] for name in self.features]

    # Turning frames into what the model sees.

    def encoded(self, frame: pd.DataFrame, columns: tuple[str, ...], dtype: type = np.float64) -> np.ndarray:
        """`columns` of `frame` as one float matrix: text categories as their codes (unknown ones NaN)."""
        if not any(name in self.text_columns for name in columns) and all(
            self.columns[name].type != "boolean" for name in columns
        ):
            return frame.loc[:, list(columns)].to_numpy(dtype=dtype)
        matrix: np.ndarray = np.empty((len(frame), len(columns)), dtype=dtype)
        for position, name in enumerate(columns):
            values = frame[name]
            if name in self.text_columns:
                codes = values.astype("string").map(self.text_columns[name]).astype("float64")
                matrix[:, position] = codes.where(codes.notna() | values.isna(), UNKNOWN_CATEGORY)
            elif self.columns[name].type == "boolean":
                matrix[:, position] = values.map(_BOOLEAN).astype("float64")
            else:
                matrix[:, position] = pd.to_numeric(values, errors="coerce")
        return matrix

    def feature_matrix(self, frame: pd.DataFrame, dtype: type = np.float64) -> np.ndarray:
        return self.encoded(frame, self.features, dtype)

    def labels(self, frame: pd.DataFrame) -> np.ndarray:
        """1 where the label is the positive (default) value, else 0."""
        values = frame[self.label.column]
        if isinstance(self.label.positive, str) or values.dtype == object:
            return (values.astype("string") == str(self.label.positive)).to_numpy(dtype=np.int64)
        return (values == self.label.positive).to_numpy(dtype=np.int64)

    def slice_masks(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Boolean row masks of every slice, named `COLUMN=group`."""
        masks: dict[str, np.ndarray] = {}
        for name, groups in self.slices.items():
            if name not in frame:
                continue
            for label, members in groups.items():
                masks[f"{name}={label}"] = _members(frame[name], members)
        return masks

    def groups(self, frame: pd.DataFrame, name: str) -> pd.Series:
        """Each row's group of protected column `name` (its slice label, else its value as text)."""
        values = frame[name]
        named = pd.Series(pd.NA, index=frame.index, dtype="string")
        for label, members in self.slices.get(name, {}).items():
            named = named.mask(_members(values, members) & named.isna(), label)
        if self.columns[name].type == "category":
            named = named.fillna(values.astype("string"))
        return named

    # Identity.

    def digest(self) -> str:
        """SHA-256 of the contract as resolved: the same for any formatting of the file (not for another
        column order, which changes the features' order)."""
        return hashlib.sha256(self.canonical().encode()).hexdigest()

    def canonical(self) -> str:
        """The contract as compact JSON. Keys keep their order: the order of the columns is the order of the
        features and of positional requests, so it is part of what the contract says."""
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"))


_LEARNER_UNSAFE: Final = ('"', ",", ":", "[", "]", "{", "}")
"""Characters LightGBM refuses in feature names (it writes them into its JSON model description)."""


def _short_spec(spec: str) -> bool:
    """A format specification a reason's sentence may use (`,.0f`, `>8.2f`): short, reading no other value,
    with no width or precision beyond two digits, so no template can blow a sentence up."""
    return len(spec) <= 12 and "{" not in spec and all(len(run) <= 2 for run in re.findall(r"\d+", spec))


def _plain_field(name: str) -> bool:
    """Whether a template reads `{name}` as the value named `name` (not an attribute, index or position)."""
    marker = object()
    try:
        return string.Formatter().get_field(name, (), {name: marker})[0] is marker
    except (KeyError, IndexError, AttributeError, ValueError, TypeError):
        return False


_BOOLEAN: Final = {True: 1.0, False: 0.0, "true": 1.0, "false": 0.0, "True": 1.0, "False": 0.0}
"""Booleans as the model sees them (1 and 0 are the same keys as True and False)."""


UNKNOWN_CATEGORY: Final = -1.0
"""The code of a text category the contract does not list: outside every column's codes, so it is refused."""


def _members(values: pd.Series, members: list[Category] | Band) -> np.ndarray:
    if isinstance(members, Band):
        numbers = pd.to_numeric(values, errors="coerce")
        return numbers.between(members.min, members.max).to_numpy(dtype=bool)
    if values.dtype == object or any(isinstance(member, str) for member in members):
        return values.astype("string").isin([str(member) for member in members]).to_numpy(dtype=bool)
    return values.isin(members).to_numpy(dtype=bool)


ContractText = Annotated[str, "YAML or JSON"]


def parse_contract(text: ContractText, source: Path) -> Contract:
    """A contract from its YAML (or JSON) text, or a one-line ConfigError naming the file and every bad key."""
    payload = contract_payload(text, source)
    try:
        return validated(Contract, payload, source, label="schema ")
    except RecursionError:
        raise ConfigError(f"schema {source} is nested too deeply to be a contract: check its brackets") from None


def contract_payload(text: ContractText, source: Path) -> object:
    """The YAML (or JSON) of a contract file, read safely; a syntax error, a key given twice or nesting too deep
    for any contract is a one-line ConfigError."""
    try:
        # _UniqueKeys is yaml's SafeLoader that also refuses repeated keys: no tag can construct an object.
        return yaml.load(text, Loader=_UniqueKeys)  # nosec B506
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise ConfigError(f"schema {source} is not valid YAML{at}: {getattr(error, 'problem', error)}") from None
    except RecursionError:
        raise ConfigError(f"schema {source} is nested too deeply to be a contract: check its brackets") from None


class _UniqueKeys(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML would keep the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # SafeLoader's own construct_mapping refuses it in one line ("found unhashable key")
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is listed twice: keep one", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_contract(path: Path | None) -> Contract:
    """The contract at `path`; the built-in UCI contract when `path` is None."""
    if path is None:
        return uci()
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"schema file {path} is a folder: name the contract's YAML file (data.schema_file)")
    if not path.is_file():
        raise ConfigError(f"schema file not found: {path}; write one with 'creditops schema infer' or omit it (UCI)")
    return parse_contract(read_config_text(path, label="schema "), path)


_UCI: list[Contract] = []


def uci() -> Contract:
    """The built-in UCI contract, read once."""
    if not _UCI:
        _UCI.append(parse_contract(BUILT_IN.read_text(encoding="utf-8"), BUILT_IN))
    return _UCI[0]


def legacy_uci() -> Contract:
    """The UCI contract as models registered before contracts travelled with them read it: SEX, MARRIAGE and
    AGE were features then. Such a model keeps serving and being compared, and a retrain leaves them out."""
    payload = uci().model_dump(mode="json")
    for column in payload["columns"].values():
        if column["role"] == "protected":
            column["role"] = "feature"
    payload["name"] += " (before protected columns)"
    return Contract.model_validate(payload)


def contract_for_features(names: list[str] | None, count: int, source: str) -> Contract:
    """The contract of a model that carries none, from the features it was trained on (their names, or
    their count where the model keeps none): the UCI one, or the UCI one from before protected columns
    were left out; anything else is refused in one line."""
    for contract in (uci(), legacy_uci()):
        if (list(names) if names is not None else count) == (
            list(contract.features) if names is not None else len(contract.features)
        ):
            return contract
    raise ConfigError(
        f"{source} carries no {ARTIFACT} and its {count} features are not UCI's: register it again with"
        " 'creditops run' so its data contract travels with it"
    )


def contract_from_json(text: str, source: str) -> Contract:
    """The contract a registered model carries (its `schema.json`)."""
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ConfigError(f"the model's {ARTIFACT} in {source} is not JSON: {error}") from None
    return validated(Contract, payload, Path(source), label="the model's schema ")
