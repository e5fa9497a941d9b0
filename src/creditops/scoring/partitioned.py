"""Batch scoring in partitions: Parquet files split by row groups, each partition scored on its own (on a
cluster's worker), the parts written in order into an output folder that appears only when complete.

Nothing here imports Dask: a partition is scored by `score_piece` with the same reader, per-row checks and
scoring step as `score_file`; `cluster.py` only decides where `score_piece` runs.
"""

import fnmatch
import glob
import hashlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from creditops.data.contract import Contract, contract_from_json
from creditops.errors import CreditopsError, DataError
from creditops.files import atomic_path, scratch_dir
from creditops.modelling.estimators import TrainedModel
from creditops.scoring.batch import (
    BatchResult,
    checked_parquet_chunks,
    empty_scores,
    invalid_rows_file,
    parquet_file,
    parquet_layout,
    repeated_columns,
    score_chunk,
    scored_table,
)
from creditops.serving.model import LoadedModel

PART: Final = "part-{:05d}.parquet"
GLOB_CHARACTERS: Final = frozenset("*?[")
RowsProgress = Callable[[int, int], None]
"""Called with the rows scored or refused so far and the rows of the whole input."""


@dataclass(frozen=True)
class ParquetInputs:
    """The Parquet files a `--data` names (a file, a folder of them, or a glob), in the order they are read."""

    source: str
    files: tuple[Path, ...]
    folder: Path | None
    """The folder the files are found under (a folder, or a glob's fixed part); None for one file."""
    pattern: str | None


@dataclass(frozen=True)
class Piece:
    """One partition: row groups of one file, and the number of the input's first row in it (all files in
    order), which numbers its rows where the file has no ID column."""

    index: int
    path: Path
    row_groups: tuple[int, ...]
    start: int
    rows: int


@dataclass(frozen=True)
class PieceResult:
    """What scoring a partition gave: the scored rows as the output's columns, and the refused rows with their
    reasons."""

    index: int
    table: pa.Table
    rejected: pd.DataFrame | None
    positives: int

    @property
    def scored(self) -> int:
        return int(self.table.num_rows)

    @property
    def invalid(self) -> int:
        return 0 if self.rejected is None else len(self.rejected)


Runner = Callable[[Sequence[Piece]], Iterator[PieceResult]]
"""Scores the pieces wherever it runs them; yields their results in the pieces' order."""


def parquet_inputs(data: Path, output: Path) -> ParquetInputs:
    """The Parquet files of `data`, once `output` (a folder of parts) can be written without touching them."""
    text = str(data)
    if GLOB_CHARACTERS & set(text):
        matched = sorted(Path(name) for name in glob.glob(text, recursive=True))
        files = [path for path in matched if path.is_file() and path.suffix.lower() == ".parquet"]
        inputs = ParquetInputs(text, tuple(files), _fixed_part(text), text)
    elif data.is_dir():
        inputs = ParquetInputs(text, tuple(_parquet_under(data)), data, None)
    elif data.is_file():
        if data.suffix.lower() != ".parquet":
            raise DataError(
                f"{data} is not Parquet: on a cluster creditops reads Parquet files; convert it (pandas:"
                f" read_csv(...).to_parquet(...)) or score it without --cluster"
            )
        inputs = ParquetInputs(text, (data,), None, None)
    else:
        raise DataError(f"data not found: {data} (a Parquet file, a folder of them, or a quoted glob)")
    if not inputs.files:
        raise DataError(f"no Parquet files in {data}: name .parquet files, a folder holding them, or a quoted glob")
    _check_output(inputs, output)
    return inputs


def _parquet_under(folder: Path) -> list[Path]:
    """The .parquet files under `folder`, at any depth, by path; hidden and `_` entries (`_metadata`, a
    writer's staging folders) skipped, as Spark and Dask skip them."""
    found = []
    for path in sorted(folder.rglob("*.parquet")):
        inside = path.relative_to(folder).parts
        if path.is_file() and not any(part.startswith((".", "_")) for part in inside):
            found.append(path)
    return found


def _fixed_part(pattern: str) -> Path:
    """The folder a glob searches under: its path up to the first part with a wildcard."""
    fixed = []
    for part in Path(pattern).parts:
        if GLOB_CHARACTERS & set(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _check_output(inputs: ParquetInputs, output: Path) -> None:
    """Refuse an output that would overwrite, delete or join the input, or that is not a folder of parts."""
    if output.is_file() or (output.is_symlink() and not output.is_dir()):
        raise DataError(
            f"the output {output} is a file: on a cluster the output is a folder of Parquet parts; choose a folder"
        )
    if output.suffix.lower() in (".csv", ".xlsx", ".xls"):
        raise DataError(
            f"the output {output} names a {output.suffix} file: on a cluster the output is a folder of Parquet"
            " parts; name a folder"
        )
    if inputs.folder is not None and _inside(output, inputs.folder) and inputs.pattern is None:
        raise DataError(
            f"the output {output} is inside the input folder {inputs.folder}: its parts would be read as input"
            " next time; choose an --output outside it"
        )
    if inputs.pattern is not None and fnmatch.fnmatch(
        str(output.resolve() / PART.format(0)), str(Path(inputs.pattern).resolve())
    ):
        raise DataError(f"the output's parts {output}/part-*.parquet would match the input {inputs.pattern}")
    for path in inputs.files:
        if _inside(path, output):
            raise DataError(
                f"the input {path} is inside the output {output}, which scoring replaces; choose another --output"
            )
    if output.is_dir():
        strangers = [path.name for path in output.iterdir() if not fnmatch.fnmatch(path.name, "part-*.parquet")]
        if strangers:
            raise DataError(
                f"the output {output} is a folder holding other files than scored parts ({', '.join(strangers[:3])}):"
                " scoring replaces it whole; choose a new or empty folder"
            )


def footers(files: Sequence[Path], contract: Contract) -> list[tuple[Path, pq.FileMetaData]]:
    """Every file's Parquet footer, read here: a file that is not Parquet, or lacks a feature column, is a
    one-line DataError naming it before any work is sent out (`plan`, and `creditops run --cluster`)."""
    found = []
    for path in files:
        parquet = parquet_file(path)
        parquet_layout(path, parquet, contract)
        found.append((path, parquet.metadata))
    return found


def plan(inputs: ParquetInputs, contract: Contract, partition_rows: int) -> list[Piece]:
    """The partitions of the input: each file's row groups in runs of up to `partition_rows` rows (a larger
    row group is a partition of its own), numbered in order. Every file's footer is read here (`footers`), so
    a missing column is found before any work is sent out."""
    pieces: list[Piece] = []
    start = 0
    for path, metadata in footers(inputs.files, contract):
        groups: list[int] = []
        rows = 0
        for group in range(metadata.num_row_groups):
            size = metadata.row_group(group).num_rows
            if groups and rows + size > partition_rows:
                pieces.append(Piece(len(pieces), path.resolve(), tuple(groups), start, rows))
                start, groups, rows = start + rows, [], 0
            groups.append(group)
            rows += size
        if groups:
            pieces.append(Piece(len(pieces), path.resolve(), tuple(groups), start, rows))
            start += rows
    return pieces


def score_piece(scoring: LoadedModel, piece: Piece, *, chunk_rows: int, explain: int = 0) -> PieceResult:
    """Score one partition, chunk by chunk, with the same reader, checks and step as `score_file`."""
    tables: list[pa.Table] = []
    rejected: list[pd.DataFrame] = []
    positives = 0
    chunks = checked_parquet_chunks(
        piece.path, scoring.model.contract, chunk_rows, row_groups=list(piece.row_groups), start=piece.start
    )
    for chunk in chunks:
        scored = score_chunk(scoring, chunk, explain=explain, threads=1)
        tables.append(scored_table(scoring, scored))
        positives += scored.positives
        if scored.rejected is not None:
            rejected.append(scored.rejected)
    table = pa.concat_tables(tables) if tables else scored_table(scoring, empty_scores(explain))
    return PieceResult(piece.index, table, pd.concat(rejected, ignore_index=True) if rejected else None, positives)


def in_process(scoring: LoadedModel, *, chunk_rows: int, explain: int = 0) -> Runner:
    """A runner scoring the pieces one after another in this process."""

    def run(pieces: Sequence[Piece]) -> Iterator[PieceResult]:
        return (score_piece(scoring, piece, chunk_rows=chunk_rows, explain=explain) for piece in pieces)

    return run


def score_partitioned(
    scoring: LoadedModel,
    pieces: Sequence[Piece],
    output: Path,
    run: Runner,
    *,
    explain: int = 0,
    progress: RowsProgress | None = None,
) -> BatchResult:
    """Score `pieces` with `run` into the folder `output` (part-00000.parquet, … one a partition) and the rows
    refused into <name>.invalid.csv beside it; both appear only when every row is accounted for."""
    rejected_path = invalid_rows_file(output)
    started = time.perf_counter()
    rows = sum(piece.rows for piece in pieces)
    returned = read = scored = invalid = positives = 0
    with atomic_path(output) as folder:
        folder.mkdir()
        refused = folder.parent / "invalid.csv"  # beside the parts, in atomic_path's private staging folder
        for result in run(pieces):
            if returned >= len(pieces):
                raise CreditopsError(f"{len(pieces)} partitions were sent out but more came back")
            piece = pieces[returned]
            _account(piece, result)
            part = folder / PART.format(piece.index)
            pq.write_table(result.table, part, use_dictionary=repeated_columns(result.table))
            if result.rejected is not None:
                result.rejected.to_csv(refused, mode="a", header=not refused.exists(), index=False)
            returned += 1
            read += piece.rows
            scored += result.scored
            invalid += result.invalid
            positives += result.positives
            if progress is not None:
                progress(read, rows)
        if returned != len(pieces):
            raise CreditopsError(f"{len(pieces)} partitions were sent out but {returned} came back scored")
        if not pieces:  # an input with no rows: a part with the columns, as score_file writes a header
            pq.write_table(scored_table(scoring, empty_scores(explain)), folder / PART.format(0))
        if scored + invalid != rows:
            raise CreditopsError(f"{rows:,} input rows but {scored:,} scored and {invalid:,} refused: rows were lost")
        if refused.exists():
            with atomic_path(rejected_path) as temporary:
                os.replace(refused, temporary)
        elif rejected_path.exists():
            rejected_path.unlink()  # from an earlier run of the same output: it would describe other data
    return BatchResult(
        rows,
        scored,
        invalid,
        positives / scored if scored else 0.0,
        output,
        rejected_path if invalid else None,
        time.perf_counter() - started,
    )


def _account(piece: Piece, result: PieceResult) -> None:
    """Every row of a partition is scored or refused: a partition that lost or gained rows is an error."""
    if result.index != piece.index or result.scored + result.invalid != piece.rows:
        raise CreditopsError(
            f"partition {piece.index} ({piece.path}, row groups {piece.row_groups[0]}-{piece.row_groups[-1]}) has"
            f" {piece.rows:,} rows but came back with {result.scored:,} scored and {result.invalid:,} refused"
        )


@dataclass(frozen=True)
class ShippedModel:
    """A loaded model as bytes and text a worker can load without the store: the learner's own safe model
    file, the data contract, and where it came from. Built once, from the model the client verified."""

    algorithm: str
    model_file: bytes
    contract: str
    name: str
    version: str
    uri: str
    threshold: float

    @classmethod
    def of(cls, loaded: LoadedModel) -> "ShippedModel":
        model = loaded.model
        with scratch_dir("creditops-ship-") as scratch:
            path = scratch / model.learner.file_name
            model.learner.save(model.estimator, path)
            data = path.read_bytes()
        return cls(
            model.algorithm,
            data,
            model.contract.canonical(),
            loaded.name,
            loaded.version,
            loaded.uri,
            loaded.threshold,
        )

    @property
    def digest(self) -> str:
        """SHA-256 over the learner, the contract and the model file: the key workers keep the model under."""
        digest = hashlib.sha256()
        for part in (self.algorithm.encode(), self.contract.encode(), self.model_file):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
        return digest.hexdigest()

    def load(self) -> LoadedModel:
        """The model, read through its learner's safe loader (no pickle), with its contract."""
        from creditops.modelling.learners import learner

        contract = contract_from_json(self.contract, self.uri)
        chosen = learner(self.algorithm)
        with scratch_dir("creditops-shipped-") as scratch:
            path = scratch / chosen.file_name
            path.write_bytes(self.model_file)
            estimator = chosen.load(path, contract)
        model = TrainedModel(self.algorithm, estimator, contract)
        return LoadedModel(model, self.name, self.version, self.uri, self.threshold)
