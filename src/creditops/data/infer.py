"""Propose a data contract from a portfolio's data, for a person to review (`creditops schema infer`).

What is inferred, column by column (each cut-off is a constant below):

- `bool` columns are boolean. Whole numbers with at most CATEGORY_MAX_VALUES distinct values, and at most
  CATEGORY_MAX_SHARE of the filled rows, are categories listing their sorted values (codes: education,
  months late); other whole numbers are integer (number when stored as decimals, as pandas stores an
  integer column with empty cells: the data checks want int64 for integer). Decimals are number.
- Text with at most TEXT_MAX_VALUES distinct values is a category listing its sorted values; text that
  is every time an ISO 8601 date (2024-01-31…) is a date column with role date. Text with more values,
  and a column empty in every row, cannot be typed: an error names it and suggests `--ignore`, which
  leaves the column out of the contract (the checks do not look at columns a contract does not name).
- Integer and number columns get an inclusive range: the data's, widened by RANGE_MARGIN of its span on
  each side, rounded outward to a readable step (whole numbers for integers), never below 0 when no value
  is. Any column with an empty cell gets `missing: true`.
- The label is a category with its two values; its positive value is the one given, else 1 of 0/1, else
  the value reading bad, yes, default or true (any case); else an error asks for it. A 1/2 label (the
  German credit coding, where 2 is bad) must name its positive value.
- The id column has role id and a range open upwards; protected columns have role protected and,
  when they are numbers, SLICE_BANDS bands cut at rounded quartiles (labels such as "21-29").
- Each feature is its own reason group, R01… in column order, reading "<column> (<its value>)"; a name
  str.format cannot take as a field (a dot, a bracket, a colon, all digits) reads as the name alone.
- Every description says what the data showed ("inferred: 18..75, none missing"): facts to check and
  replace with what the column means, never a placeholder.
"""

import datetime
import difflib
import math
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from creditops.config.validation import describe
from creditops.data.contract import Band, Category, Column, Contract, Label, ReasonGroup, parse_contract
from creditops.errors import ConfigError, DataError

CATEGORY_MAX_VALUES: Final = 20
"""Whole-number columns with more distinct values are integer, not categories."""
CATEGORY_MAX_SHARE: Final = 0.05
"""…and so are those whose distinct values exceed this share of the filled rows (20 rows per code)."""
TEXT_MAX_VALUES: Final = 50
"""Text columns with more distinct values are free text or identifiers, not categories: an error."""
RANGE_MARGIN: Final = 0.10
"""Ranges are widened by this share of the data's span on each side (of the value, for a constant)."""
SLICE_BANDS: Final = 4
"""Protected number columns are cut into (at most) this many bands at rounded quantiles."""
_POSITIVE_WORDS: Final = ("bad", "yes", "default", "true")
_ISO_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}([T ].*)?$")
_SHOWN: Final = 8

Kind = Literal["boolean", "truth", "whole", "decimal", "text", "date", "empty"]


@dataclass(frozen=True)
class _Profile:
    """What a column holds: its kind and its filled values (numbers, text or timestamps)."""

    kind: Kind
    values: pd.Series
    missing: int
    rows: int
    integer_dtype: bool

    @property
    def distinct(self) -> int:
        return int(self.values.nunique())


def infer_contract(
    frame: pd.DataFrame,
    *,
    label: str,
    positive: object = None,
    id_column: str | None = None,
    protected: Sequence[str] = (),
    ignore: Sequence[str] = (),
    name: str = "portfolio",
    source: str | None = None,
) -> Contract:
    """A contract proposed from `frame`, for a person to review; `ignore` columns are left out of it.

    `positive` is matched to the label's values by its text ("1" matches 1). Unknown column names, a label
    without exactly two values, a missing `positive` and columns that cannot be typed are one-line errors.
    """
    names = _column_names(frame)
    if len(frame) == 0:
        raise DataError("the data have no rows: nothing to infer a contract from")
    _known(names, [label], "label column")
    if id_column is not None:
        _known(names, [id_column], "id column")
    _known(names, protected, "protected column")
    _known(names, ignore, "ignored column")
    _distinct_roles(label, id_column, protected, ignore)

    columns: dict[str, Column] = {}
    slices: dict[str, dict[str, list[Category] | Band]] = {}
    label_column, label_spec = _label(label, _profile(frame[label]), positive)
    for column_name in names:
        if column_name in ignore:
            continue
        if column_name == label:
            columns[column_name] = label_column
            continue
        profile = _profile(frame[column_name])
        if column_name == id_column:
            columns[column_name] = _identifier(column_name, profile)
        else:
            role: Literal["feature", "protected"] = "protected" if column_name in protected else "feature"
            columns[column_name] = _column(column_name, profile, role)
            if role == "protected" and columns[column_name].type in ("integer", "number"):
                slices[column_name] = _bands(column_name, columns[column_name], profile)
    if not any(column.role == "feature" for column in columns.values()):
        raise DataError("no column is left to be a feature: the model needs at least one")
    of = f" of {source}" if source else ""
    try:
        return Contract(
            name=name,
            description=f"Inferred from {len(frame):,} rows{of} ({len(names)} columns)",
            label=label_spec,
            columns=columns,
            reasons=_reasons(columns),
            slices=slices,
        )
    except ValidationError as error:
        raise DataError(f"the data cannot have a contract as they are: {describe(error)}") from None


# Names and roles.


def _column_names(frame: pd.DataFrame) -> list[str]:
    names = list(frame.columns)
    odd = [repr(name) for name in names if not isinstance(name, str)]
    if odd:
        raise DataError(f"column names must be text; these are not: {', '.join(odd[:_SHOWN])}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(f"columns named twice: {', '.join(map(repr, repeated))}; give each column its own name")
    return [str(name) for name in names]


def _known(names: list[str], asked: Iterable[str], what: str) -> None:
    for name in asked:
        if name not in names:
            raise ConfigError(f"{what} {name!r} is not in the data; {_suggestion(name, names)}")


def _suggestion(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if close:
        return f"did you mean {' or '.join(map(repr, close))}?"
    shown = ", ".join(map(repr, names[:_SHOWN]))
    more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    return f"its columns are {shown}{more}"


def _distinct_roles(label: str, id_column: str | None, protected: Sequence[str], ignore: Sequence[str]) -> None:
    claims: dict[str, list[str]] = {}
    for role, members in (("label", [label]), ("id", [id_column] if id_column else []), ("protected", protected)):
        for member in dict.fromkeys(members):
            claims.setdefault(member, []).append(role)
    for member in dict.fromkeys(ignore):
        claims.setdefault(member, []).append("ignored")
    for member, roles in claims.items():
        if len(roles) > 1:
            raise ConfigError(f"column {member!r} is given as {' and '.join(roles)}: give it one role")


# What a column holds.


def _profile(series: pd.Series) -> _Profile:
    filled = series.dropna()
    rows, missing = len(series), int(len(series) - len(filled))
    integer_dtype = pd.api.types.is_integer_dtype(series.dtype)

    def made(kind: Kind, values: pd.Series) -> _Profile:
        return _Profile(kind, values.reset_index(drop=True), missing, rows, integer_dtype)

    if filled.empty:
        return made("empty", filled)
    if pd.api.types.is_bool_dtype(series.dtype):
        return made("boolean", filled.astype(bool))
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return made("date", pd.Series(pd.to_datetime(filled)))
    if pd.api.types.is_numeric_dtype(series.dtype):
        return made(_number_kind(filled), filled)
    items = filled.astype(object)
    held = pd.api.types.infer_dtype(items, skipna=True)
    if held == "boolean":
        return made("truth", items.map(lambda item: str(bool(item))))
    if held in ("integer", "floating", "mixed-integer-float", "decimal"):
        numbers = pd.to_numeric(items)
        return made(_number_kind(numbers), numbers)
    text = items.map(str)
    if all(_ISO_DATE.match(item) for item in text.unique()):
        dates = pd.to_datetime(text, format="ISO8601", errors="coerce")
        if dates.notna().all():
            return made("date", pd.Series(dates))
    return made("text", text)


def _number_kind(values: pd.Series) -> Kind:
    """whole: integers, or decimals that are all whole (an integer column with empty cells); else decimal."""
    if pd.api.types.is_integer_dtype(values.dtype):
        return "whole"
    numbers = values.to_numpy(dtype="float64")
    whole = bool(np.isfinite(numbers).all() and (np.mod(numbers, 1) == 0).all() and (np.abs(numbers) < 2**53).all())
    return "whole" if whole else "decimal"


# Columns by role.


def _column(name: str, profile: _Profile, role: Literal["feature", "protected"]) -> Column:
    missing = profile.missing > 0
    if profile.kind == "empty":
        raise DataError(f"column {name!r} is empty in every row: nothing to infer; leave it out with --ignore {name}")
    if profile.kind == "boolean":
        share = float(profile.values.mean())
        return Column(
            role=role, type="boolean", missing=missing, description=_said(f"true in {share:.1%} of rows", profile)
        )
    if profile.kind == "date":
        first, last = profile.values.min(), profile.values.max()
        return Column(
            role="date" if role == "feature" else role,
            type="date",
            missing=missing,
            description=_said(f"dates {first.date().isoformat()}..{last.date().isoformat()}", profile),
        )
    if profile.kind in ("truth", "text"):
        categories = sorted(profile.values.unique().tolist())
        if len(categories) > TEXT_MAX_VALUES:
            raise DataError(
                f"column {name!r} holds {len(categories):,} distinct texts, too many for categories (at most"
                f" {TEXT_MAX_VALUES}): free text or an identifier; leave it out with --ignore {name}"
            )
        return _category(role, categories, profile)
    distinct = profile.distinct
    if profile.kind == "whole" and _few(distinct, len(profile.values)):
        return _category(role, sorted(int(value) for value in profile.values.unique()), profile)
    integer = profile.kind == "whole"
    low, high = _extremes(profile.values)
    column_type = "integer" if integer and profile.integer_dtype else "number"
    seen = f"{'whole numbers ' if integer and column_type == 'number' else ''}{_number(low)}..{_number(high)}"
    if distinct == 1:
        seen = f"always {_number(low)}"
    return Column(
        role=role,
        type=column_type,
        range=_widened(profile.values, integer),
        missing=missing,
        description=_said(seen, profile),
    )


def _few(distinct: int, filled: int) -> bool:
    return distinct <= CATEGORY_MAX_VALUES and distinct <= CATEGORY_MAX_SHARE * filled


def _category(role: Literal["feature", "protected"], categories: list[Category], profile: _Profile) -> Column:
    counted = f"{len(categories)} categor{'y' if len(categories) == 1 else 'ies'}"
    return Column(
        role=role,
        type="category",
        categories=categories,
        missing=profile.missing > 0,
        description=_said(counted, profile),
    )


def _label(name: str, profile: _Profile, positive: object) -> tuple[Column, Label]:
    if profile.kind in ("decimal", "date"):
        held = "decimals" if profile.kind == "decimal" else "dates"
        raise DataError(f"the label {name!r} holds {held}: it must hold two values, such as 0 and 1 or good and bad")
    texts = _texts(profile)
    if profile.kind == "whole":
        values: list[Category] = sorted({int(value) for value in profile.values})
    else:
        values = sorted(texts.unique().tolist())
    if len(values) != 2:
        shown = ", ".join(map(str, values[:_SHOWN])) + (" …" if len(values) > _SHOWN else "")
        raise DataError(f"the label {name!r} must have exactly two values; it has {len(values)}: {shown or 'none'}")
    chosen = _positive(name, values, positive)
    if profile.missing:
        raise DataError(
            f"the label {name!r} is empty in {profile.missing:,} row(s): a model learns from known outcomes only;"
            " drop those rows (score them later) and infer again"
        )
    share = float((texts == str(chosen)).mean())
    column = Column(
        role="label",
        type="category",
        categories=values,
        description=_said(f"{chosen} in {share:.1%} of labelled rows", profile),
    )
    return column, Label(column=name, positive=chosen)


def _texts(profile: _Profile) -> pd.Series:
    """The filled values as the contract writes them: whole numbers without a decimal point, True/False."""
    if profile.kind == "whole":
        return profile.values.map(lambda value: str(int(value)))
    if profile.kind == "boolean":
        return profile.values.map(lambda value: str(bool(value)))
    return profile.values.astype(str)


def _positive(name: str, values: list[Category], positive: object) -> Category:
    listed = " and ".join(map(str, values))
    if positive is not None:
        text = str(positive)
        exact = [value for value in values if str(value) == text]
        loose = [value for value in values if str(value).casefold() == text.casefold()]
        if exact or len(loose) == 1:
            return (exact or loose)[0]
        raise ConfigError(f"--positive {text!r} is not a value of the label {name!r}: its values are {listed}")
    if [str(value) for value in values] == ["0", "1"]:
        return values[1]
    for word in _POSITIVE_WORDS:
        for value in values:
            if isinstance(value, str) and value.casefold() == word:
                return value
    raise ConfigError(
        f"which value of the label {name!r} means default? Its values are {listed}: give it with --positive"
    )


def _identifier(name: str, profile: _Profile) -> Column:
    if profile.kind not in ("whole", "decimal"):
        held = {"text": "text", "truth": "true/false", "boolean": "true/false", "date": "dates", "empty": "nothing"}
        raise ConfigError(
            f"id column {name!r} holds {held[profile.kind]}; a contract's id holds numbers: leave --id out and"
            f" the column out with --ignore {name}"
        )
    low, high = _extremes(profile.values)
    floor = 1.0 if low >= 1 else 0.0 if low >= 0 else None
    repeated = len(profile.values) - profile.distinct
    unique = "unique" if repeated == 0 else f"{repeated:,} repeated"
    return Column(
        role="id",
        type="integer" if profile.kind == "whole" and profile.integer_dtype else "number",
        range=(floor, None),
        missing=profile.missing > 0,
        description=_said(f"identifier {_number(low)}..{_number(high)}, {unique}", profile),
    )


def _said(seen: str, profile: _Profile) -> str:
    if profile.missing == 0:
        return f"inferred: {seen}, none missing"
    return f"inferred: {seen}, {profile.missing:,} missing ({profile.missing / profile.rows:.1%})"


# Ranges and bands.


def _extremes(values: pd.Series) -> tuple[float | int, float | int]:
    low, high = values.min(), values.max()
    if pd.api.types.is_integer_dtype(values.dtype):
        return int(low), int(high)
    return float(low), float(high)


def _number(value: float | int) -> str:
    if isinstance(value, int) or (math.isfinite(value) and value.is_integer() and abs(value) < 2**53):
        return str(int(value))
    return f"{value:g}"


def _widened(values: pd.Series, integer: bool) -> tuple[float | None, float | None]:
    """The data's range widened by RANGE_MARGIN on each side, rounded outward; unbounded where ±inf occurs."""
    low, high = _extremes(values)
    finite = values[np.isfinite(values.astype("float64"))] if not integer else values
    if finite.empty:  # only infinities: nothing to bound
        return None, None
    low_f, high_f = _extremes(finite)
    margin = RANGE_MARGIN * (float(high_f) - float(low_f)) if high_f != low_f else RANGE_MARGIN * abs(float(low_f))
    if not math.isfinite(margin):
        margin = RANGE_MARGIN * float(high_f) - RANGE_MARGIN * float(low_f)
    step = _step(margin, integer)
    wide_low = _outward(float(low_f) - margin, step, down=True)
    wide_high = _outward(float(high_f) + margin, step, down=False)
    wide_low = _at_most(wide_low if math.isfinite(wide_low) else float(low_f), low_f)
    wide_high = _at_least(wide_high if math.isfinite(wide_high) else float(high_f), high_f)
    if low_f >= 0:
        wide_low = max(wide_low, 0.0)
    # + 0.0: no -0.0, which equals 0 but writes as another digest
    return (None if low == -math.inf else wide_low + 0.0), (None if high == math.inf else wide_high + 0.0)


def _step(margin: float, integer: bool) -> float:
    """A readable rounding step no larger than the margin: 1, 10, 0.1 … (whole for integers)."""
    if margin <= 0 or not math.isfinite(margin):
        return 1.0 if integer else 0.0
    step = 10.0 ** math.floor(math.log10(margin))
    return max(step, 1.0) if integer else step


def _outward(value: float, step: float, *, down: bool) -> float:
    if step <= 0 or not math.isfinite(value / step):
        return value
    multiple = (math.floor if down else math.ceil)(value / step) * step
    digits = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return float(round(multiple, digits) if digits else multiple)


def _at_most(bound: float, value: float | int) -> float:
    """`bound`, lowered to the next float until it is not above `value` (exactly, for huge integers)."""
    while bound > value:
        bound = math.nextafter(bound, -math.inf)
    return bound


def _at_least(bound: float, value: float | int) -> float:
    while bound < value:
        bound = math.nextafter(bound, math.inf)
    return bound


def _bands(name: str, column: Column, profile: _Profile) -> dict[str, list[Category] | Band]:
    """Bands of a protected number column cut at its rounded quartiles, covering its whole range.

    Integer bands meet without overlap ([21, 29], [30, 34] …); number bands share their cut value, which
    the first band claims."""
    values = profile.values.astype("float64")
    values = values[np.isfinite(values)]
    if values.empty:
        raise DataError(f"protected column {name!r} holds no finite number to cut into bands")
    low, high = column.range or (None, None)
    whole = profile.kind == "whole"
    first, last = float(values.min()), float(values.max())
    quantiles = [float(q) for q in np.quantile(values, [k / SLICE_BANDS for k in range(1, SLICE_BANDS)])]
    step = _cut_step(quantiles[-1] - quantiles[0] or last - first, whole)
    cuts = sorted({_nearest(q, step) for q in quantiles})
    cuts = [cut for cut in cuts if first < cut <= last]
    edges = [first, *cuts]
    bands: dict[str, list[Category] | Band] = {}
    for position, start in enumerate(edges):
        end = cuts[position] - (1 if whole else 0) if position < len(cuts) else last
        band_low = (low if low is not None else first) if position == 0 else start
        band_high = (high if high is not None else last) if position == len(cuts) else end
        label = _band_label(start, end)
        if label in bands:  # four digits did not tell two bands apart
            label = f"{start!r} to {end!r}"
        bands[label] = Band(min=band_low + 0.0, max=band_high + 0.0)
    return bands


def _cut_step(spread: float, whole: bool) -> float:
    """A round step for cut points: a power of ten, or half of one, near half the spread (5 for ages)."""
    if spread <= 0 or not math.isfinite(spread):
        return 1.0 if whole else 0.0
    power = 10.0 ** math.floor(math.log10(spread))
    if power == 0:  # a spread too small for a power of ten (subnormal): cut where the quartiles are
        return 1.0 if whole else 0.0
    step = power / 2 if spread / power < 2 else power
    return max(step, 1.0) if whole else step


def _nearest(value: float, step: float) -> float:
    if step <= 0 or not math.isfinite(value / step):
        return value
    multiple = math.floor(value / step + 0.5) * step
    digits = max(0, -math.floor(math.log10(step))) + 1 if step < 1 else 0
    return float(round(multiple, digits) if digits else multiple)


def _band_label(start: float, end: float) -> str:
    """A band's name, such as 21-29, 30 or -0.25 to 0.5: whole numbers as they are, others to four digits."""
    shown = [_number(value) if float(value).is_integer() else f"{value:.4g}" for value in (start, end)]
    if shown[0] == shown[1]:
        return shown[0]
    return (" to " if start < 0 or end < 0 else "-").join(shown)


# Reasons.


def _reasons(columns: dict[str, Column]) -> list[ReasonGroup]:
    features = [name for name, column in columns.items() if column.role == "feature"]
    width = max(2, len(str(len(features))))
    return [
        ReasonGroup(code=f"R{number:0{width}d}", columns=[name], text=_reason_text(name, columns[name]))
        for number, name in enumerate(features, start=1)
    ]


def _reason_text(name: str, column: Column) -> str:
    """ "<column> (<value>)", the value formatted for its type; the name alone where it cannot be a field of
    str.format (a dot, a bracket, a colon, all digits)."""
    plain = name.replace("{", "{{").replace("}", "}}")
    if not name.strip():
        return "(unnamed column)"
    spec = {"integer": ",.0f", "number": "g", "boolean": "g"}.get(column.type, "")
    if column.type == "category" and not column.text_categories:
        spec = "g"
    text = f"{plain} ({{{name}{':' if spec else ''}{spec}}})"
    sample: object = "x" if column.text_categories else 1.0
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]
        if fields == [name] and text.format_map({name: sample}) == f"{name} ({format(sample, spec)})":
            return text
    except (KeyError, IndexError, ValueError, AttributeError, TypeError):
        pass
    return plain


# The contract as YAML.

_LINE: Final = 120


def contract_yaml(contract: Contract, *, source: str | Path | None = None, on: datetime.date | None = None) -> str:
    """The contract as YAML for a person to review: a header saying where and when it was inferred, the
    columns in data order (one line each where short). `parse_contract` reads it back to an equal contract."""
    day = (on or datetime.date.today()).isoformat()
    where = " ".join(str(source).split()) if source is not None else "data"
    header = [
        f"# Data contract inferred from {where} on {day} by 'creditops schema infer': review it before use.",
        f"# Check each column's role, type, categories or range (widened {RANGE_MARGIN:.0%} beyond the data),",
        "# whether it may be missing, the label's positive value, the reasons' texts and the slices; replace",
        "# each 'inferred: …' description with what the column means. Then: creditops schema check FILE --data DATA",
    ]
    payload = _payload(contract)
    body = _readable(payload)
    text = "\n".join(header) + "\n" + body
    if _reads_back(text, contract):
        return text
    text = "\n".join(header) + "\n" + _dump(payload, flow=None, unicode=False)  # odd characters escaped
    if _reads_back(text, contract):
        return text
    raise ValueError("the contract does not survive YAML: report this as a creditops bug")


def _reads_back(text: str, contract: Contract) -> bool:
    try:
        return parse_contract(text, Path("inferred.yaml")) == contract
    except ConfigError:
        return False


def _payload(contract: Contract) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": contract.name,
        "description": contract.description,
        "label": {"column": contract.label.column, "positive": contract.label.positive},
        "columns": {name: _entry(column) for name, column in contract.columns.items()},
        "reasons": [group.model_dump() for group in contract.reasons],
        "slices": {
            name: {
                label: (
                    {"min": _plain(members.min), "max": _plain(members.max)} if isinstance(members, Band) else members
                )
                for label, members in groups.items()
            }
            for name, groups in contract.slices.items()
        },
    }
    if contract.outcome_date != Contract.model_fields["outcome_date"].default:
        payload["outcome_date"] = contract.outcome_date
    if not contract.description:
        del payload["description"]
    return payload


def _members(members: list[Category] | Band) -> Any:
    return {"min": _plain(members.min), "max": _plain(members.max)} if isinstance(members, Band) else list(members)


def _entry(column: Column) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if column.role != "feature":
        entry["role"] = column.role
    entry["type"] = column.type
    if column.categories is not None:
        entry["categories"] = list(column.categories)
    if column.range is not None:
        entry["range"] = [_plain(bound) for bound in column.range]
    if column.missing:
        entry["missing"] = True
    if column.monotone is not None:
        entry["monotone"] = column.monotone
    if column.description:
        entry["description"] = column.description
    return entry


def _plain(value: float | None) -> float | int | None:
    """Whole floats as integers (18, not 18.0): the same number once read back."""
    if value is not None and math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _readable(payload: dict[str, Any]) -> str:
    """Top keys in block style; each column, reason and slice on one line where it fits, else in block style."""
    parts = [_dump({key: payload[key] for key in ("name", "description", "label") if key in payload}, flow=False)]
    for key in ("columns", "reasons", "slices"):
        if not payload[key]:
            continue
        lines = [f"{key}:"]
        items = payload[key].items() if isinstance(payload[key], dict) else ((None, item) for item in payload[key])
        for name, value in items:
            entry = value if name is None else {name: value}
            inline = _dump(entry, flow=True).strip()
            inline = f"- {inline}" if name is None else inline[1:-1]
            if len(inline) + 2 <= _LINE and "\n" not in inline:
                lines.append(f"  {inline}")
            else:
                block = _dump(entry if name is not None else [entry], flow=None)
                lines.extend(f"  {line}" for line in block.splitlines())
        parts.append("\n".join(lines) + "\n")
    if "outcome_date" in payload:
        parts.append(_dump({"outcome_date": payload["outcome_date"]}, flow=False))
    return "".join(parts)


def _dump(payload: Any, *, flow: bool | None, unicode: bool = True) -> str:
    return yaml.safe_dump(
        payload, default_flow_style=flow, sort_keys=False, allow_unicode=unicode, width=10**6 if flow else _LINE
    )
