"""Batch scoring on a Dask cluster: the partitions of `scoring/partitioned.py` scored on the workers, the parts
written here in order.

The model is read and verified once, by the caller, from the store; it goes to the workers as bytes (the
learner's safe file and the contract, `ShippedModel`) in a worker plugin, which each worker, present or
joining later, loads once and keeps under the model's digest until the batch ends. Workers need creditops
and the model's learner library installed and the input files at the same paths; they need no store.

The command imports it only for --cluster.
"""

import contextlib
import socket
import threading
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from creditops.compute.cluster import INSTALL, connected
from creditops.config.environments import ClusterSpec
from creditops.errors import CreditopsError, DataError, first_line

try:
    from distributed import Client, Future, WorkerPlugin
except ImportError:  # the extra is not installed
    raise CreditopsError(f"scoring on a cluster needs Dask: {INSTALL}") from None

from creditops.scoring.batch import BatchResult
from creditops.scoring.partitioned import (
    ParquetInputs,
    Piece,
    PieceResult,
    RowsProgress,
    ShippedModel,
    plan,
    score_partitioned,
    score_piece,
)
from creditops.serving.model import LoadedModel

IN_FLIGHT_PER_THREAD: Final = 2
"""Partitions sent out per worker thread at a time: enough to keep every thread busy while this process
writes the parts in order, few enough that results waiting to be written stay small."""

_MODELS: dict[str, LoadedModel] = {}
"""On a worker: the models it holds, by digest."""
LOADS: Counter[str] = Counter()
"""On a worker: how many times it loaded each model (by digest); `worker_loads` reads it."""
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ClusterBatch:
    """A batch scored on a cluster: the batch, where it ran and in how many partitions."""

    result: BatchResult
    address: str
    workers: int
    partitions: int


class ModelPlugin(WorkerPlugin):
    """Gives every worker the model once (when registered, and to workers that join later)."""

    def __init__(self, shipped: ShippedModel) -> None:
        self.shipped = shipped
        self.digest = shipped.digest
        self.name = f"creditops-model-{self.digest[:16]}"

    def setup(self, worker: Any) -> None:
        install(self.shipped, self.digest)

    def teardown(self, worker: Any) -> None:
        with _LOCK:
            _MODELS.pop(self.digest, None)


def install(shipped: ShippedModel, digest: str) -> LoadedModel:
    """The model under `digest` in this process, loaded from `shipped` the first time only."""
    with _LOCK:
        if digest not in _MODELS:
            if shipped.digest != digest:
                raise CreditopsError(f"the model shipped as {digest[:16]} arrived with other bytes: not loaded")
            _MODELS[digest] = shipped.load()
            LOADS[digest] += 1
        return _MODELS[digest]


def worker_loads() -> dict[str, int]:
    """How many times this worker loaded each model (run on the workers with `Client.run`)."""
    return dict(LOADS)


def _score_on_worker(digest: str, piece: Piece, chunk_rows: int, explain: int) -> PieceResult:
    scoring = _MODELS.get(digest)
    if scoring is None:
        raise CreditopsError(f"worker has no model {digest[:16]}: its plugin did not run (restart the worker)")
    if not piece.path.is_file():
        raise DataError(
            f"a worker on {socket.gethostname()} cannot see {piece.path}: every worker reads the input at the path"
            " this machine gives (a shared mount)"
        )
    return score_piece(scoring, piece, chunk_rows=chunk_rows, explain=explain)


def score_on_cluster(
    loaded: LoadedModel,
    inputs: ParquetInputs,
    output: Path,
    cluster: ClusterSpec,
    *,
    chunk_rows: int,
    explain: int = 0,
    progress: RowsProgress | None = None,
) -> ClusterBatch:
    """Score the Parquet `inputs` on `cluster` into the folder `output`."""
    pieces = plan(inputs, loaded.model.contract, chunk_rows)
    shipped = ShippedModel.of(loaded)
    with connected(cluster) as client:
        if progress is not None:
            progress(0, sum(piece.rows for piece in pieces))
        workers: dict[str, int] = client.nthreads()  # type: ignore[no-untyped-call]
        threads = sum(workers.values())
        plugin = ModelPlugin(shipped)
        _register(client, plugin)
        try:
            result = score_partitioned(
                loaded,
                pieces,
                output,
                lambda sent: _in_order(client, plugin.digest, sent, chunk_rows, explain, threads),
                explain=explain,
                progress=progress,
            )
        finally:
            with contextlib.suppress(Exception):  # the batch's outcome stands; a worker that left has no model
                client.unregister_worker_plugin(plugin.name)  # type: ignore[no-untyped-call]
        address = cluster.address or str(client.scheduler_info()["address"])
    return ClusterBatch(result, address, len(workers), len(pieces))


def _register(client: Client, plugin: ModelPlugin) -> None:
    try:
        client.register_plugin(plugin, name=plugin.name)
    except CreditopsError:
        raise
    except Exception as error:  # the worker's own error, re-raised here: whatever it is, it is one line
        raise CreditopsError(
            f"the workers could not load the model ({type(error).__name__}: {first_line(error)}): each worker"
            " needs creditops and the model's learner installed, the same versions as here"
        ) from None


def _in_order(
    client: Client, digest: str, pieces: Sequence[Piece], chunk_rows: int, explain: int, threads: int
) -> Iterator[PieceResult]:
    """Each piece scored on the cluster, yielded in order, with a bounded number of pieces out at a time."""
    window = max(4, IN_FLIGHT_PER_THREAD * threads)
    upcoming = iter(pieces)
    pending: deque[tuple[Piece, Future[PieceResult]]] = deque()

    def send() -> None:
        piece = next(upcoming, None)
        if piece is not None:
            pending.append((piece, client.submit(_score_on_worker, digest, piece, chunk_rows, explain, pure=False)))

    try:
        for _ in range(window):
            send()
        while pending:
            piece, future = pending.popleft()
            result = _result(piece, future)
            send()
            yield result
    finally:
        client.cancel([future for _, future in pending])  # type: ignore[no-untyped-call]


def _result(piece: Piece, future: "Future[PieceResult]") -> PieceResult:
    try:
        result = future.result()
    except CreditopsError:
        raise
    except Exception as error:  # a worker lost, a library error on a worker: one line naming the partition
        raise CreditopsError(
            f"partition {piece.index} ({piece.path}) failed on the cluster: {type(error).__name__}: {first_line(error)}"
        ) from None
    if not isinstance(result, PieceResult):
        raise CreditopsError(f"partition {piece.index} came back as {type(result).__name__}, not scored rows")
    return result
