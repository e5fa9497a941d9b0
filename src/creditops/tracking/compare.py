"""Two registered versions side by side (`creditops models diff`): what the registry and the training run
hold about each (metrics, lineage, parameters, the latest gate decision, the data contract) and where they
differ. `facts` reads one version; `compare` is a pure function of two of them."""

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

from creditops.data.contract import Contract
from creditops.tracking import names
from creditops.tracking.registry import Registry, VersionInfo

SECTIONS: Final = ("registry", "metrics", "lineage", "params", "gate", "contract")
"""The sections of a comparison, in the order people read them."""
COLUMN_FIELDS: Final = ("role", "type", "categories", "range", "missing", "monotone")
"""What a contract column says that changes what the model sees (its description does not)."""
ABSENT: Final = "—"
NEVER_GATED: Final = {"decision": "none"}
"""The gate line of a version the gate never judged (in the environment asked about)."""

GateLookup = Callable[[VersionInfo], Mapping[str, Any] | None]
"""The latest gate decision (evidence record) of a version, None when it has none."""


@dataclass(frozen=True)
class ContractFacts:
    """The data contract a version carries: its name, digest, label and each column's attributes."""

    name: str
    digest: str
    label: str
    columns: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class VersionFacts:
    """What is known about one registered version, as plain values."""

    name: str
    version: str
    aliases: tuple[str, ...]
    created_ms: int
    run_id: str | None
    metrics: dict[str, str]
    """The registry's `metric.*` tags (test split), as registered."""
    lineage: dict[str, str]
    params: dict[str, str]
    """The training run's parameters."""
    gate: dict[str, str]
    """The latest gate decision's figures; empty when the gate never judged the version."""
    contract: ContractFacts | None
    """None for a version registered before contracts travelled with the model."""


@dataclass(frozen=True)
class Row:
    """One line of the comparison: a value of each version (None where it has none)."""

    section: str
    key: str
    a: str | None
    b: str | None

    @property
    def differs(self) -> bool:
        return self.a != self.b


@dataclass(frozen=True)
class VersionDiff:
    """Two versions and every line of their comparison, section by section."""

    a: VersionFacts
    b: VersionFacts
    rows: tuple[Row, ...]

    @property
    def differences(self) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if row.differs)

    def as_dict(self) -> dict[str, Any]:
        """`--output json`: both versions whole (metrics as numbers), and the lines that differ (null where a
        version has no value, not the table's dash)."""
        return {
            "a": _json_facts(self.a),
            "b": _json_facts(self.b),
            "differences": [
                {"section": row.section, "key": row.key, "a": _json_value(row.a), "b": _json_value(row.b)}
                for row in self.differences
            ],
        }


def _json_facts(found: VersionFacts) -> dict[str, Any]:
    whole = asdict(found)
    whole["metrics"] = {key: _metric_value(value) for key, value in found.metrics.items()}
    return whole


def _json_value(shown: str | None) -> str | None:
    return None if shown in (None, ABSENT) else shown


def _metric_value(text: str) -> float | str:
    """A registered metric (a tag, so text) as a number; kept as text if it is not one."""
    try:
        return float(text)
    except ValueError:
        return text


def diff(registry: Registry, a: str, b: str, *, default_name: str, gate_of: GateLookup) -> VersionDiff:
    """Resolve `a` and `b` (NAME/VERSION, NAME@ALIAS or a bare VERSION of `default_name`) and compare them."""
    first = registry.resolve(a, default_name)
    second = registry.resolve(b, default_name)
    facts_a = facts(registry, first, gate_of(first))
    same = (first.name, first.version) == (second.name, second.version)
    return compare(facts_a, facts_a if same else facts(registry, second, gate_of(second)))


def facts(registry: Registry, info: VersionInfo, gate: Mapping[str, Any] | None) -> VersionFacts:
    """Read one version: its tags, its run's parameters and its contract; `gate` is its latest decision."""
    tags = info.tags
    lineage: dict[str, str] = {
        key: tags[key] for key in (*names.LINEAGE, names.THRESHOLD, names.COMPARISON) if key in tags
    }
    return VersionFacts(
        name=info.name,
        version=info.version,
        aliases=info.aliases,
        created_ms=info.created_ms,
        run_id=info.run_id,
        metrics={
            key.removeprefix(names.METRIC_PREFIX): value
            for key, value in sorted(tags.items())
            if key.startswith(names.METRIC_PREFIX)
        },
        lineage=lineage,
        params=dict(sorted(registry.run_params(info.run_id).items())) if info.run_id else {},
        gate=gate_figures(gate) if gate is not None else {},
        contract=contract_facts(registry.contract(info)),
    )


def contract_facts(contract: Contract | None) -> ContractFacts | None:
    if contract is None:
        return None
    return ContractFacts(
        name=contract.name,
        digest=contract.digest(),
        label=f"{contract.label.column} = {contract.label.positive}",
        columns={
            name: column.model_dump(mode="json", include=set(COLUMN_FIELDS))
            for name, column in contract.columns.items()
        },
    )


def gate_figures(record: Mapping[str, Any]) -> dict[str, str]:
    """An evidence record as flat figures: decision, where and when, ROC AUC with its bootstrap interval
    (and against the champion), each check's verdict, the approver."""
    figures = {key: str(record[key]) for key in ("decision", "environment", "mode", "decided_at") if key in record}
    candidate = record.get("candidate")
    if isinstance(candidate, Mapping) and "roc_auc" in candidate:
        figures["holdout roc_auc"] = _with_interval(candidate.get("roc_auc"), candidate.get("roc_auc_ci"))
    champion = record.get("champion")
    if isinstance(champion, Mapping):
        figures["champion compared"] = f"v{champion.get('version', '?')}"
        figures["champion roc_auc"] = _with_interval(champion.get("roc_auc"), champion.get("roc_auc_ci"))
        difference = champion.get("difference_ci")
        mean = difference.get("mean") if isinstance(difference, Mapping) else None
        figures["roc_auc − champion"] = _with_interval(mean, difference, sign=True)
    elif isinstance(candidate, Mapping):
        figures["champion compared"] = "none (first model)"
    for check in record.get("checks") or []:
        if isinstance(check, Mapping) and "name" in check:
            figures[f"check {check['name']}"] = str(check.get("verdict", "?"))
    if record.get("approver"):
        figures["approver"] = str(record["approver"])
    return figures


def _number(value: object, sign: bool = False) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ABSENT
    return f"{value:+.4f}" if sign else f"{value:.4f}"


def _with_interval(value: object, interval: object, sign: bool = False) -> str:
    """'0.7712 (0.7503 … 0.7921)', or the value alone when no interval was recorded."""
    if not isinstance(interval, Mapping) or "low" not in interval or "high" not in interval:
        return _number(value, sign)
    return f"{_number(value, sign)} ({_number(interval['low'], sign)} … {_number(interval['high'], sign)})"


def compare(a: VersionFacts, b: VersionFacts) -> VersionDiff:
    """Every line of both versions, section by section (SECTIONS); the contract by column, where they differ."""
    rows = [
        *_pairs("registry", _registry(a), _registry(b)),
        *_pairs("metrics", a.metrics, b.metrics),
        *_pairs("lineage", a.lineage, b.lineage),
        *_pairs("params", a.params, b.params),
        *_pairs("gate", a.gate or NEVER_GATED, b.gate or NEVER_GATED),
        *_contract_rows(a.contract, b.contract),
    ]
    return VersionDiff(a, b, tuple(rows))


def _registry(facts: VersionFacts) -> dict[str, str]:
    return {"aliases": ", ".join(facts.aliases) or ABSENT, names.RUN_ID: facts.run_id or ABSENT}


def _pairs(section: str, a: Mapping[str, str], b: Mapping[str, str]) -> list[Row]:
    """One row per key of either, in `a`'s order and then `b`'s own keys."""
    keys = [*a, *(key for key in b if key not in a)]
    return [Row(section, key, a.get(key), b.get(key)) for key in keys]


def _contract_rows(a: ContractFacts | None, b: ContractFacts | None) -> list[Row]:
    """The contract's name, digest and label, then each column added, removed or changed (columns alike
    are counted, not listed)."""
    if a is None or b is None:
        return [Row("contract", "carried", "yes" if a else "no", "yes" if b else "no")]
    rows = _pairs(
        "contract",
        {"name": a.name, "digest": a.digest[:12], "label": a.label},
        {"name": b.name, "digest": b.digest[:12], "label": b.label},
    )
    names_a, names_b = list(a.columns), list(b.columns)
    alike = [name for name in names_a if b.columns.get(name) == a.columns[name]]
    rows.append(Row("contract", "columns alike", str(len(alike)), str(len(alike))))
    shared_a = [name for name in names_a if name in b.columns]
    shared_b = [name for name in names_b if name in a.columns]
    if shared_a != shared_b:  # the order of the columns is the order of the features
        rows.append(Row("contract", "column order", " ".join(shared_a), " ".join(shared_b)))
    for name in [*names_a, *(name for name in names_b if name not in a.columns)]:
        if name in alike:
            continue
        rows.append(Row("contract", f"column {name}", _column(a.columns.get(name)), _column(b.columns.get(name))))
    return rows


def _column(attributes: Mapping[str, Any] | None) -> str | None:
    """'feature, category, categories 0 1 2' — None for a column the contract does not have."""
    if attributes is None:
        return None
    parts = [str(attributes.get("role")), str(attributes.get("type"))]
    categories = attributes.get("categories")
    if categories is not None:
        parts.append("categories " + " ".join(str(value) for value in categories))
    bounds = attributes.get("range")
    if bounds is not None:
        parts.append("range " + "..".join(_bound(value) for value in bounds))
    if attributes.get("missing"):
        parts.append("missing allowed")
    if attributes.get("monotone"):
        parts.append(f"monotone {attributes['monotone']}")
    return ", ".join(parts)


def _bound(value: float | None) -> str:
    """A range's end as written in a contract: 10000000, 0.5, or nothing when unbounded."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
