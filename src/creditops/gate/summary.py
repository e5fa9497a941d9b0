"""A gate decision as compact Markdown for the place a reviewer approves (a CI job summary, a PR comment):
a pure function of the evidence record and where the model card is."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from creditops.gate.evidence import EvidenceRecord


@dataclass(frozen=True)
class CardPlace:
    """Where the version's model card is: a file on this machine and an artifact of its MLflow run."""

    file: str | None
    run_id: str | None
    artifact: str | None
    """The artifact path in the run, e.g. `report/credit-default-v3.html`."""


def cell(value: object) -> str:
    """`value` fit for one Markdown table cell: on one line, its pipes escaped."""
    text = " ".join(str(value).split())
    return text.replace("|", "\\|") or " "


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return lines


def _number(value: object, sign: bool = False) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    return f"{value:+.4f}" if sign else f"{value:.4f}"


def _interval(interval: object, sign: bool = False) -> str:
    if not isinstance(interval, Mapping) or "low" not in interval or "high" not in interval:
        return "—"
    return f"{_number(interval['low'], sign)} … {_number(interval['high'], sign)}"


def _verdict(verdict: str) -> str:
    return f"**{verdict.upper()}**" if verdict == "fail" else verdict


def _check(record: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    for check in record.get("checks") or []:
        if isinstance(check, Mapping) and check.get("name") == name:
            return check
    return None


def _metrics(record: Mapping[str, Any]) -> list[str]:
    candidate, champion = record.get("candidate") or {}, record.get("champion")
    if not isinstance(candidate, Mapping) or "roc_auc" not in candidate:
        return []
    rows = [
        (
            f"candidate v{record['model_version']}",
            _number(candidate.get("roc_auc")),
            _interval(candidate.get("roc_auc_ci")),
        )
    ]
    if isinstance(champion, Mapping):
        rows.append(
            (
                f"champion v{champion.get('version', '?')}",
                _number(champion.get("roc_auc")),
                _interval(champion.get("roc_auc_ci")),
            )
        )
        difference = champion.get("difference_ci")
        mean = difference.get("mean") if isinstance(difference, Mapping) else None
        rows.append(("candidate − champion", _number(mean, sign=True), _interval(difference, sign=True)))
    else:
        rows.append(("champion", "none", "first model: nothing to compare"))
    return ["", "### ROC AUC on the frozen holdout", "", *_table(("model", "ROC AUC", "bootstrap interval"), rows)]


def _slices(record: Mapping[str, Any]) -> list[str]:
    check = _check(record, "slices")
    data = check.get("data") if check is not None else None
    if not isinstance(data, Mapping) or not data:
        return []
    rows = []
    for name, entry in data.items():
        if not isinstance(entry, Mapping):
            continue
        judged = bool(entry.get("judged"))
        rows.append(
            (
                name,
                entry.get("rows", "—"),
                _number(entry.get("candidate")) if judged else "not judged",
                _number(entry.get("champion")) if judged else "—",
                _number(entry.get("drop"), sign=True) if judged else "—",
            )
        )
    header = ("slice", "rows", "candidate AUC", "champion AUC", "drop")
    return ["", "### Slices", "", *_table(header, rows)]


def _gap(gap: object) -> str:
    if not isinstance(gap, Mapping):
        return "—"
    return f"{gap.get('low_group')} {_number(gap.get('low'))} / {gap.get('high_group')} {_number(gap.get('high'))}"


def _fairness(record: Mapping[str, Any]) -> list[str]:
    check = _check(record, "fairness")
    data = check.get("data") if check is not None else None
    if not isinstance(data, Mapping):
        return []
    columns = data.get("columns")
    if not isinstance(columns, Mapping) or not columns:
        return []
    rows = []
    for name, column in columns.items():
        if not isinstance(column, Mapping):
            continue
        odds = column.get("equalized_odds_difference")
        rate = f" ({column['odds_rate']})" if odds is not None and column.get("odds_rate") else ""
        rows.append(
            (
                name,
                _number(column.get("adverse_impact_ratio")),
                _gap(column.get("approval_gap")),
                _number(odds) + rate,
            )
        )
    limits = (
        f"Decisions at threshold {data.get('threshold', '?')}; limits: adverse impact ratio ≥"
        f" {data.get('min_adverse_impact_ratio', '?')}, equalized odds difference ≤"
        f" {data.get('max_equalized_odds_difference', '?')}; groups under {data.get('min_group_rows', '?')} rows"
        " or without both outcomes are not judged."
    )
    header = ("protected column", "adverse impact ratio", "approval rate low / high", "equalized odds difference")
    return ["", "### Fairness", "", *_table(header, rows), "", limits]


def _card(card: CardPlace | None) -> list[str]:
    if card is None or (card.file is None and card.artifact is None):
        return []
    lines = ["", "### Model card", ""]
    if card.file is not None:
        lines.append(f"- file: `{card.file}`")
    if card.artifact is not None:
        lines.append(f"- MLflow run `{card.run_id}`, artifact `{card.artifact}`")
    return lines


def render(record: EvidenceRecord | Mapping[str, Any], card: CardPlace | None = None) -> str:
    """The Markdown summary: headline, every check, ROC AUC with intervals, slices, fairness, the card."""
    title = f"{record['model_name']} v{record['model_version']} in {record['environment']}"
    lines = [
        f"## Gate decision: {title}: {record['decision']}",
        "",
        f"**Reason:** {' '.join(str(record.get('reason', '')).split())}",
        "",
        f"Mode `{record.get('mode', '?')}` · commit `{record.get('git_commit') or 'unknown'}`"
        f" · decided {record.get('decided_at', '?')}"
        + (f" · approved by {record['approver']}" if record.get("approver") else ""),
        "",
        *_table(
            ("verdict", "check", "detail"),
            (
                (_verdict(str(check.get("verdict", "?"))), check.get("name", "?"), check.get("detail", ""))
                for check in record.get("checks") or []
                if isinstance(check, Mapping)
            ),
        ),
        *_metrics(record),
        *_slices(record),
        *_fairness(record),
        *_card(card),
    ]
    return "\n".join(lines) + "\n"
