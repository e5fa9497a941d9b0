"""The drift history of an environment: the summary each `monitor drift` check keeps, read back in time order.

A summary is built here (`summarize`) when a check runs, written beside the check's page, and read here
(`read_history`). Summaries kept before the per-feature figures were recorded read as checks without them;
a file that cannot be read, or holds impossible figures (NaN, infinity, a rate outside 0 to 1, negative rows),
is named in a one-line note and left out, never a traceback: what is read is finite, so `--output json` is
valid JSON.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from creditops.files import read_json
from creditops.monitoring.drift import DriftReport

STAMP_FORMAT: Final = "%Y%m%dT%H%M%S.%f"
"""A check's time in its summary and file names (UTC to the microsecond): names sort by time."""


MAX_ROWS: Final = 2**53
"""More rows than any check counts, and the largest whole number every JSON reader holds exactly."""
Share = Annotated[float, Field(ge=0, le=1)]
"""A rate, a probability or a p-value: 0 to 1."""
MAX_PSI: Final = 100.0
"""Far over any PSI a check computes: with each share clipped at 1e-4 (`drift.EPSILON`) a PSI stays under
about 2·ln(10⁴) ≈ 18.4. Larger is a damaged file, and would overflow the charts' axes."""
Psi = Annotated[float, Field(ge=0, le=MAX_PSI)]
Rows = Annotated[int, Field(ge=0, le=MAX_ROWS)]


def stamp(moment: datetime) -> str:
    """`moment` as a check's stamp: 20261205T063526.123456."""
    return moment.astimezone(UTC).strftime(STAMP_FORMAT)


def summary_glob(environment: str) -> str:
    """The names of an environment's drift summaries in the monitoring folder."""
    return f"drift-{environment}-*.json"


class _Record(BaseModel):
    # A summary written by a newer creditops may carry keys this one does not know: left, not refused.
    # NaN and infinity are refused: they would chart as nothing, sort as anything and break JSON output.
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)


class FeatureFigures(_Record):
    """One feature's figures in one check."""

    feature: str
    psi: Psi
    test: str
    p_value: Share
    drifted: bool
    categorical: bool = False


class Thresholds(_Record):
    """The drift thresholds in force when a check ran (the environment file's monitoring settings)."""

    psi: Psi
    p_value: Share
    default_rate_shift: Share
    min_rows: Rows


class DriftSummary(_Record):
    """What one `monitor drift` check keeps: its verdict, rates, model version, page and per-feature figures."""

    at: str
    drifted: bool
    rows: Rows
    drifted_features: tuple[str, ...]
    reference_default_rate: Share
    """The mean predicted probability of default on the training reference."""
    live_default_rate: Share
    """The mean predicted probability of default on the live rows."""
    model_version: str
    page: str
    thresholds: Thresholds | None = None
    features: tuple[FeatureFigures, ...] | None = None
    """None: a summary kept before the per-feature figures were recorded (it adds no feature points)."""

    @field_validator("at")
    @classmethod
    def _a_stamp(cls, value: str) -> str:
        datetime.strptime(value, STAMP_FORMAT)  # raises ValueError, which pydantic reports as invalid
        return value

    @property
    def checked_at(self) -> datetime:
        return datetime.strptime(self.at, STAMP_FORMAT).replace(tzinfo=UTC)

    @property
    def when(self) -> str:
        """The check's time for people: 2026-12-05 06:35:26 (UTC)."""
        return self.checked_at.strftime("%Y-%m-%d %H:%M:%S")

    @property
    def top(self) -> FeatureFigures | None:
        """The feature with the largest PSI, if the check kept per-feature figures."""
        return max(self.features, key=lambda item: item.psi) if self.features else None

    def figures(self, feature: str) -> FeatureFigures | None:
        return next((item for item in self.features or () if item.feature == feature), None)


def summarize(report: DriftReport, at: str, model_version: str, page: Path) -> DriftSummary:
    """The summary a check keeps: everything the history needs, none of the rows."""
    thresholds = report.thresholds
    return DriftSummary(
        at=at,
        drifted=report.drifted,
        rows=report.rows,
        drifted_features=report.drifted_features,
        reference_default_rate=report.reference_rate,
        live_default_rate=report.live_rate,
        model_version=model_version,
        page=str(page),
        thresholds=Thresholds(
            psi=thresholds.psi,
            p_value=thresholds.p_value,
            default_rate_shift=thresholds.default_rate_shift,
            min_rows=thresholds.min_rows,
        ),
        features=tuple(
            FeatureFigures(
                feature=item.feature,
                psi=item.psi,
                test=item.test,
                p_value=item.p_value,
                drifted=item.drifted,
                categorical=item.categorical,
            )
            for item in report.features
        ),
    )


@dataclass(frozen=True)
class History:
    """An environment's drift checks, oldest first, and a note for each summary file that could not be read."""

    environment: str
    checks: tuple[DriftSummary, ...]
    notes: tuple[str, ...] = ()

    @property
    def features(self) -> tuple[str, ...]:
        """Every feature any check judged, in the order they first appear."""
        return tuple(dict.fromkeys(item.feature for check in self.checks for item in check.features or ()))

    @property
    def without_figures(self) -> tuple[DriftSummary, ...]:
        """The checks kept before per-feature figures were recorded."""
        return tuple(check for check in self.checks if check.features is None)

    def new_version(self, position: int) -> bool:
        """Whether the check at `position` scored another model version than the check before it."""
        return position > 0 and self.checks[position].model_version != self.checks[position - 1].model_version

    def psi(self, feature: str) -> list[float | None]:
        """The feature's PSI in each check; None where the check has no figure for it."""
        found = (check.figures(feature) for check in self.checks)
        return [None if item is None else item.psi for item in found]

    def figures_note(self) -> str | None:
        """One line when some checks add no feature points."""
        old = self.without_figures
        if not old:
            return None
        first, last = old[0].when, old[-1].when
        span = first if first == last else f"{first} to {last}"
        return (
            f"{len(old)} of {len(self.checks)} checks ({span} UTC) were kept before per-feature figures were"
            " recorded: they add no feature points"
        )

    def as_dict(self) -> dict[str, Any]:
        """Stable keys for `--output json`: the kept summaries with `new_version` and `top_psi`, and the notes."""
        checks = []
        for position, check in enumerate(self.checks):
            top = check.top
            checks.append(
                {
                    **check.model_dump(mode="json"),
                    "new_version": self.new_version(position),
                    "top_psi": None if top is None else {"feature": top.feature, "psi": top.psi},
                }
            )
        notes = [*self.notes, *filter(None, [self.figures_note()])]
        return {"environment": self.environment, "checks": checks, "notes": notes}


def read_history(directory: Path, environment: str) -> History:
    """The drift checks of `environment` kept in `directory`, ordered by time."""
    return build(environment, directory.glob(summary_glob(environment)))


def build(environment: str, paths: Iterable[Path]) -> History:
    """The history of the summaries at `paths`: ordered by their time (then name), the unreadable named."""
    kept: list[tuple[DriftSummary, str]] = []
    notes: list[str] = []
    for path in sorted(paths):
        try:
            kept.append((DriftSummary.model_validate(read_json(path)), path.name))
        except (OSError, ValueError) as error:  # JSON and validation errors are ValueErrors
            notes.append(f"skipped {path}: {_reason(error)}")
    kept.sort(key=lambda pair: (pair[0].checked_at, pair[1]))
    return History(environment, tuple(summary for summary, _ in kept), tuple(notes))


def _reason(error: Exception) -> str:
    """Why a summary could not be read, in one line."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the file"
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        return f"not a drift summary: {where}: {first['msg']}{more}"
    if isinstance(error, json.JSONDecodeError):
        return f"not JSON ({error.msg} at line {error.lineno} column {error.colno})"
    if isinstance(error, UnicodeDecodeError):
        return "not text (undecodable bytes)"
    return " ".join(str(error).split()) or type(error).__name__
