"""Batch scoring of a portfolio: a data file in, a scored file out, in chunks of bounded memory.

Each chunk is read with only the columns scoring needs, checked with the same per-row checks as the
scoring service (rows that fail go to a side file with their reasons; they are never scored), scored,
and appended to the output, which is written under a temporary name and renamed when complete.
"""

import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from creditops.data.contract import Contract
from creditops.data.io import csv_header, read_table
from creditops.errors import DataError, first_line
from creditops.files import atomic_path
from creditops.serving.model import LoadedModel
from creditops.serving.validation import ValueRules

OUTPUTS: Final = (".parquet", ".csv")
Progress = Callable[[int], None]
"""Called with the number of rows scored or refused so far."""


@dataclass(frozen=True)
class BatchResult:
    """What a batch scoring did: rows in, rows scored, rows refused, and the share predicted to default
    (`default_rate`: classed 1 at the model's threshold; not the mean probability)."""

    rows: int
    scored: int
    invalid: int
    default_rate: float
    output: Path
    invalid_output: Path | None
    seconds: float


def score_file(
    scoring: LoadedModel,
    source: Path,
    output: Path,
    *,
    chunk_rows: int = 200_000,
    threads: int = 2,
    explain: int = 0,
    progress: Progress | None = None,
) -> BatchResult:
    """Score every row of `source` into `output` (.parquet or .csv); invalid rows into <stem>.invalid.csv beside it.

    With `explain` > 0, each row also gets its `explain` principal reasons (codes and sentences).
    """
    rejected_path = checked_outputs(source, output)
    started = time.perf_counter()
    handled = scored = positives = 0
    rejected: list[pd.DataFrame] = []
    contract = scoring.model.contract
    chunks = _checked(_chunks(source, min(chunk_rows, SCORING_ROWS), contract), contract)
    # One file thread reads and checks the next chunks and writes the scored ones, in order, while `threads`
    # threads score chunks on one LightGBM thread each: pyarrow, numpy and LightGBM release the GIL, and no
    # prediction waits at a parallel region's barrier for a thread the file work held up.
    with ExitStack() as commit:  # the output and its invalid rows are renamed into place together, at the end
        temporary = commit.enter_context(atomic_path(output))
        with (
            _Writer(temporary, scoring) as writer,
            ThreadPoolExecutor(1) as files,
            ThreadPoolExecutor(threads) as scorers,
        ):
            reading: Future[CheckedChunk | None] = files.submit(next, chunks, None)
            queued: deque[tuple[Future[ScoredChunk], int]] = deque()
            writing: Future[None] | None = None
            try:
                while True:
                    if len(queued) <= threads and (chunk := reading.result()) is not None:
                        reading = files.submit(next, chunks, None)
                        rows = len(chunk.ids) + chunk.invalid
                        if chunk.rejected is not None:
                            rejected.append(chunk.rejected)
                        queued.append((scorers.submit(score_chunk, scoring, chunk, explain=explain, threads=1), rows))
                        continue
                    if not queued:
                        break
                    scored_next, rows = queued.popleft()
                    done = scored_next.result()
                    if writing is not None:
                        writing.result()
                    writing = files.submit(writer.write, scored_table(scoring, done))
                    scored += len(done.ids)
                    positives += done.positives
                    handled += rows
                    if progress is not None:
                        progress(handled)
                if writing is not None:
                    writing.result()
            except BaseException:  # a Ctrl-C or a failure: the chunks not yet started are dropped, not scored
                for waiting, _ in queued:
                    waiting.cancel()
                raise
        if rejected:
            pd.concat(rejected).to_csv(commit.enter_context(atomic_path(rejected_path)), index=False)
        elif rejected_path.exists():  # from an earlier run of the same output: it would describe other data
            commit.callback(rejected_path.unlink, missing_ok=True)
    return BatchResult(
        handled,
        scored,
        handled - scored,
        positives / scored if scored else 0.0,
        output,
        rejected_path if rejected else None,
        time.perf_counter() - started,
    )


def invalid_rows_file(output: Path) -> Path:
    """Where the rows refused on the way to `output` go, with their reasons."""
    return output.with_name(f"{output.stem}.invalid.csv")


def checked_outputs(source: Path, output: Path) -> Path:
    """The invalid-rows file of `output`, once neither it nor `output` is `source`: scoring never writes over
    its own input (`--data X.invalid.csv --output X.csv` would, through the invalid-rows file)."""
    if output.suffix.lower() not in OUTPUTS:
        raise DataError(f"cannot write {output}: use an output ending in {' or '.join(OUTPUTS)}")
    rejected = invalid_rows_file(output)
    for written, role in ((output, "output"), (rejected, "invalid-rows file")):
        if _same_file(written, source):
            raise DataError(
                f"the {role} {written} is the input {source}: scoring would write over its own data;"
                " choose another --output"
            )
    return rejected


def _same_file(one: Path, other: Path) -> bool:
    """Whether the two paths name one file: the same resolved path, or the same file through a link."""
    if one.resolve() == other.resolve():
        return True
    try:
        return one.samefile(other)
    except OSError:  # either is absent: then they are not one file
        return False


@dataclass(frozen=True)
class CheckedChunk:
    """The valid rows of one chunk, ready to score, and the rows refused with their reasons."""

    ids: np.ndarray
    features: np.ndarray
    rejected: pd.DataFrame | None

    @property
    def invalid(self) -> int:
        return 0 if self.rejected is None else len(self.rejected)


@dataclass(frozen=True)
class ScoredChunk:
    """The scores of a chunk's valid rows (their reasons with --explain), and the rows it refused."""

    ids: np.ndarray
    probability: np.ndarray
    classes: np.ndarray
    reasons: list[str] | None
    rejected: pd.DataFrame | None

    @property
    def positives(self) -> int:
        return int(self.classes.sum())

    @property
    def invalid(self) -> int:
        return 0 if self.rejected is None else len(self.rejected)


def score_chunk(scoring: LoadedModel, chunk: CheckedChunk, *, explain: int = 0, threads: int = 1) -> ScoredChunk:
    """The one scoring step of every batch, in this process or on a cluster's worker: the checked chunk's
    valid rows predicted, classed at the model's threshold and, with `explain` > 0, given their reasons."""
    if not len(chunk.ids):  # every row refused: scikit-learn's models refuse to predict zero rows
        empty = empty_scores(explain)
        return ScoredChunk(chunk.ids, empty.probability, empty.classes, empty.reasons, chunk.rejected)
    probability = scoring.model.predict_proba(chunk.features, threads=threads)
    classes = (probability >= scoring.threshold).astype(np.int8)
    reasons = _explained(scoring, chunk.features, explain, threads) if explain else None
    return ScoredChunk(chunk.ids, probability, classes, reasons, chunk.rejected)


SCORING_ROWS: Final = 50_000
"""Rows one thread reads, checks or scores at a time in one process (fewer with a smaller `chunk_rows`): the
chunks are shared evenly between the scoring threads, and they stay small enough that the memory allocator
reuses their arrays (larger ones are fresh pages every time, which cost more than the checks)."""


def scored_table(scoring: LoadedModel, scored: ScoredChunk) -> pa.Table:
    """The output columns of a scored chunk: ID, probability, class, model name and version (and reasons)."""
    rows = len(scored.ids)
    columns = {
        scoring.model.contract.id_column or "ID": pa.array(scored.ids),
        "probability": pa.array(scored.probability, type=pa.float64()),
        "class": pa.array(scored.classes, type=pa.int8()),
        "model_name": _constant(scoring.name, rows),
        "model_version": _constant(scoring.version, rows),
    }
    if scored.reasons is not None:
        columns["reasons"] = pa.array(scored.reasons, type=pa.string())
    return pa.table(columns)


def empty_scores(explain: int) -> ScoredChunk:
    """No rows scored: what an output with nothing valid in it still holds (its columns)."""
    return ScoredChunk(np.array([]), np.array([]), np.array([], dtype=np.int8), [] if explain else None, None)


def checked_chunks(source: Path, contract: Contract, chunk_rows: int = 100_000) -> Iterator[CheckedChunk]:
    """The rows of `source` chunk by chunk over the contract's features, split into valid and refused (Azure
    ML's batch script uses it)."""
    return _checked(_chunks(source, chunk_rows, contract), contract)


def _checked(chunks: Iterator[tuple[np.ndarray, np.ndarray, "_Layout"]], contract: Contract) -> Iterator[CheckedChunk]:
    """Each chunk split into its valid rows and its refused rows (with the service's per-row checks, on every
    request column the file has: a protected column is checked too, though it never scores)."""
    id_column = contract.id_column or "ID"
    rules: ValueRules | None = None
    whole_numbers: bool | None = None
    for read, values, layout in chunks:
        rules = rules or ValueRules(contract, layout.columns)
        problems = rules.row_problems(values)
        if whole_numbers is None:
            whole_numbers = read.dtype.kind in "iuf"
        ids, usable = _ids_of_one_type(read, whole_numbers)
        for row in np.flatnonzero(~usable):
            problems.setdefault(int(row), []).insert(0, _id_problem(id_column, whole_numbers))
        features = values[:, layout.features] if layout.features is not None else values
        if not problems:
            yield CheckedChunk(ids, features, None)
            continue
        valid = np.ones(len(ids), dtype=bool)
        valid[list(problems)] = False
        reasons = ["; ".join(problems[row]) for row in sorted(problems)]
        yield CheckedChunk(ids[valid], features[valid], pd.DataFrame({id_column: read[~valid], "reasons": reasons}))


def _ids_of_one_type(ids: np.ndarray, whole_numbers: bool) -> tuple[np.ndarray, np.ndarray]:
    """A chunk's IDs in the type of the file's first chunk (whole numbers, or else text), and which rows have
    one: a chunk read with an empty or a text ID among numbers must not change the output's ID column."""
    if whole_numbers and ids.dtype.kind in "iu":
        return ids, np.ones(len(ids), dtype=bool)
    series = pd.Series(ids)
    if whole_numbers:
        numbers = pd.to_numeric(series, errors="coerce")
        usable = numbers.notna() & (numbers % 1 == 0) & (numbers.abs() < 2**63)
        return numbers.where(usable, 0).astype(np.int64).to_numpy(), usable.to_numpy()
    usable = series.notna()
    return series.where(usable, "").astype(str).to_numpy(dtype=object), usable.to_numpy()


def _id_problem(id_column: str, whole_numbers: bool) -> str:
    if whole_numbers:
        return f"{id_column}: missing or not a whole number (the file's first IDs are whole numbers)"
    return f"{id_column}: missing"


@dataclass(frozen=True)
class _Layout:
    """Which request columns a file has (the features, and the protected columns it carries), where the
    features sit among them (None: they are all of them), and its ID column."""

    columns: tuple[str, ...]
    features: list[int] | None
    id_column: str | None

    @classmethod
    def of(cls, source: Path, names: object, contract: Contract) -> "_Layout":
        present = set(map(str, names))  # type: ignore[call-overload]
        missing = [name for name in contract.features if name not in present]
        if missing:
            raise DataError(f"{source} lacks the feature column(s) {', '.join(missing)}")
        columns = tuple(name for name in contract.request_columns if name in present)
        positions = [columns.index(name) for name in contract.features]
        id_column = contract.id_column if contract.id_column in present else None
        return cls(columns, None if positions == list(range(len(columns))) else positions, id_column)

    @property
    def read(self) -> list[str]:
        return [*self.columns, *([self.id_column] if self.id_column else [])]


def _chunks(source: Path, chunk_rows: int, contract: Contract) -> Iterator[tuple[np.ndarray, np.ndarray, _Layout]]:
    """(IDs, request columns as float64, their layout) per chunk; IDs are row numbers where the file has no ID
    column."""
    suffix = source.suffix.lower()
    if not source.is_file():
        raise DataError(f"data file not found: {source}")
    if suffix == ".parquet":
        yield from _parquet_chunks(source, chunk_rows, contract)
        return
    if suffix == ".csv":
        layout = _Layout.of(source, csv_header(source), contract)
        start = 0
        for frame in _readable(source, pd.read_csv(source, usecols=layout.read, chunksize=chunk_rows)):
            yield _split(frame, start, contract, layout)
            start += len(frame)
        return
    frame = read_table(source, contract)  # Excel: whole, through the training reader (no streaming reader exists)
    layout = _Layout.of(source, frame.columns, contract)
    for start in range(0, len(frame), chunk_rows):
        yield _split(frame.iloc[start : start + chunk_rows], start, contract, layout)


def parquet_file(source: Path) -> pq.ParquetFile:
    """`source` opened as Parquet (its footer read), or a one-line DataError."""
    try:
        return pq.ParquetFile(source)
    except (pa.ArrowInvalid, OSError) as error:
        raise DataError(f"cannot read {source}: {first_line(error)}") from error


def parquet_layout(source: Path, parquet: pq.ParquetFile, contract: Contract) -> "_Layout":
    """The request columns `source` has, or the contract's one-line error naming the ones it lacks."""
    return _Layout.of(source, parquet.schema_arrow.names, contract)


def checked_parquet_chunks(
    source: Path, contract: Contract, chunk_rows: int, *, row_groups: list[int] | None = None, start: int = 0
) -> Iterator[CheckedChunk]:
    """The rows of `row_groups` of a Parquet file (all by default) chunk by chunk, checked as `score_file`
    checks them; rows are numbered from `start` where the file has no ID column (a cluster's partition)."""
    return _checked(_parquet_chunks(source, chunk_rows, contract, row_groups=row_groups, start=start), contract)


def _parquet_chunks(
    source: Path, chunk_rows: int, contract: Contract, *, row_groups: list[int] | None = None, start: int = 0
) -> Iterator[tuple[np.ndarray, np.ndarray, _Layout]]:
    parquet = parquet_file(source)
    layout = parquet_layout(source, parquet, contract)
    numeric = not contract.text_columns and all(contract.columns[n].type != "boolean" for n in layout.columns)
    for batch in _readable(
        source, parquet.iter_batches(batch_size=chunk_rows, row_groups=row_groups, columns=layout.read)
    ):
        if not numeric:
            yield _split(batch.to_pandas(), start, contract, layout)
            start += batch.num_rows
            continue
        values = np.empty((batch.num_rows, len(layout.columns)), dtype=np.float64, order="F")  # a copy a column
        for position, name in enumerate(layout.columns):
            values[:, position] = batch.column(name).to_numpy(zero_copy_only=False)
        if layout.id_column:
            ids = batch.column(layout.id_column).to_numpy(zero_copy_only=False)
        else:
            ids = np.arange(start, start + batch.num_rows)
        start += batch.num_rows
        yield ids, values, layout


T = TypeVar("T")


def _readable(source: Path, chunks: Iterator[T]) -> Iterator[T]:
    """`chunks` of `source`, a damaged part of it (a corrupt row group, a malformed CSV line) a one-line
    DataError where it is met: what was scored before is discarded with the rest."""
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except (pa.ArrowException, OSError, ValueError, UnicodeDecodeError) as error:
            raise DataError(f"cannot read {source}: {first_line(error)}") from None
        yield chunk


def _split(
    frame: pd.DataFrame, start: int, contract: Contract, layout: _Layout
) -> tuple[np.ndarray, np.ndarray, _Layout]:
    values = contract.encoded(frame, layout.columns)
    ids = frame[layout.id_column].to_numpy() if layout.id_column else np.arange(start, start + len(frame))
    return ids, values, layout


class _Writer:
    """Appends scored chunks to a Parquet or CSV file."""

    def __init__(self, path: Path, scoring: LoadedModel) -> None:
        self.path = path
        self.scoring = scoring
        self.parquet: pq.ParquetWriter | None = None
        self.first = True

    def __enter__(self) -> "_Writer":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.first and not any(exc):  # nothing was scored: still write a file with the header
            self.write(scored_table(self.scoring, empty_scores(0)))
        if self.parquet is not None:
            self.parquet.close()

    def write(self, table: pa.Table) -> None:
        if self.path.suffix.lower() == ".parquet":
            if self.parquet is None:
                self.parquet = pq.ParquetWriter(self.path, table.schema, use_dictionary=repeated_columns(table))
            self.parquet.write_table(table)
        else:
            table.to_pandas().to_csv(self.path, mode="a", header=self.first, index=False)
        self.first = False


def repeated_columns(table: pa.Table) -> list[str]:
    """The scored columns whose values repeat (model name and version, reasons): the only ones worth a Parquet
    dictionary. Trying one on IDs and probabilities, which are all different, doubled the writing time."""
    return [name for name in ("model_name", "model_version", "reasons") if name in table.column_names]


def _constant(value: str, rows: int) -> pa.DictionaryArray:
    """A column holding one value on every row, stored once (dictionary-encoded)."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int8)), pa.array([value]))


def _explained(scoring: LoadedModel, features: np.ndarray, k: int, threads: int) -> list[str]:
    """Each row's `k` principal reasons as one cell: "R01 sentence | R03 sentence"."""
    from creditops.modelling.reasons import contributions, top_reasons

    contract = scoring.model.contract
    rows = top_reasons(contract, contributions(scoring.model, features, threads=threads), features, k)
    return [" | ".join(f"{reason.code} {reason.text}" for reason in reasons) for reasons in rows]
