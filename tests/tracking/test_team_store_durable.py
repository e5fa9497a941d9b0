"""The team store keeps its data and its URI: a data folder in the workspace (never a temporary folder) that
only its cluster's user owns and can write, and ports chosen once, so the URI CI keeps stays valid; every
refusal is one line. The folder checks run without servers; one real cluster covers the restarts."""

import contextlib
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient

from creditops.errors import CreditopsError
from creditops.tracking import server, team_users

REPO = Path(__file__).resolve().parents[2]
AS_ROOT = os.geteuid() == 0
needs_postgres = pytest.mark.skipif(
    not server.available(), reason="PostgreSQL is not installed (apt-get install postgresql; .ci/run does)"
)


@contextlib.contextmanager
def _server_log_on_failure(workspace: Path) -> Iterator[None]:
    """A failing request says what the server logged (the workspace is gone when the test ends)."""
    try:
        yield
    except Exception as error:
        log = workspace / "server" / "logs" / "mlflow-server.log"
        tail = log.read_text(errors="replace")[-6000:] if log.is_file() else "(no server log)"
        raise AssertionError(f"{error}\n--- {log} ---\n{tail}") from error


def _one_line(error: pytest.ExceptionInfo[CreditopsError], *parts: str) -> None:
    message = str(error.value)
    assert "\n" not in message
    for part in parts:
        assert part in message, message


def _stat(mode: int, uid: int = 1000, gid: int = 1000) -> os.stat_result:
    return os.stat_result((stat.S_IFDIR | mode, 0, 0, 1, uid, gid, 0, 0, 0, 0))


@pytest.mark.parametrize(
    ("mode", "uid", "groups", "allowed"),
    [
        (0o700, 1000, set(), True),  # the owner
        (0o070, 1000, {1000}, False),  # the owner's own bits apply to the owner, not the group's
        (0o710, 2000, {1000}, True),  # a member of the folder's group
        (0o701, 2000, {1000}, False),  # a member: the group's bits, not the others'
        (0o701, 2000, set(), True),  # anyone else
        (0o770, 2000, set(), False),
    ],
)
def test_who_may_enter_a_folder_follows_its_mode_bits(mode: int, uid: int, groups: set[int], allowed: bool) -> None:
    assert server.enterable(_stat(mode), uid, groups) is allowed


def test_the_first_folder_a_user_cannot_enter_is_named(tmp_path: Path) -> None:
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    me, groups = os.geteuid(), set(os.getgroups())
    assert server.unreachable(inner, me, groups) is None
    (tmp_path / "a").chmod(0o600)
    try:
        assert server.unreachable(inner, me, groups) == tmp_path / "a"
    finally:
        (tmp_path / "a").chmod(0o700)


def test_a_data_folder_of_another_user_others_can_write_or_not_made_here_is_refused(tmp_path: Path) -> None:
    data, me = tmp_path / "data", os.geteuid()
    data.mkdir(mode=0o700)
    server.check_data_folder(data, me, made=False)  # empty and private: initdb may use it
    with pytest.raises(CreditopsError) as refused:
        server.check_data_folder(data, me + 4242, made=False)
    _one_line(refused, f"the data folder {data} belongs to", f"uid {me + 4242} who runs the cluster", "--data-dir")
    for mode in (0o777, 0o720, 0o702):
        data.chmod(mode)
        with pytest.raises(CreditopsError) as refused:
            server.check_data_folder(data, me, made=True)
        _one_line(refused, f"others can write to the data folder {data} (mode {mode:o})", "chmod go-w")
    data.chmod(0o750)
    (data / "PG_VERSION").write_text("15\n")
    with pytest.raises(CreditopsError) as refused:
        server.check_data_folder(data, me, made=False)
    _one_line(refused, f"the data folder {data} is not empty and creditops made no cluster there", "store.json")
    server.check_data_folder(data, me, made=True)
    with pytest.raises(CreditopsError) as refused:
        server.check_data_folder(data / "PG_VERSION", me, made=True)
    _one_line(refused, "is not a folder")


def _refused_start(workspace: Path, data_dir: Path | None = None) -> pytest.ExceptionInfo[CreditopsError]:
    with pytest.raises(CreditopsError) as refused:
        server.start(workspace, data_dir=data_dir)
    assert not (server.folder(workspace) / server.STATE_FILE).exists()
    return refused


def test_start_refuses_a_prepared_data_folder_before_making_a_cluster(reachable: Path) -> None:
    planted = reachable / "planted"
    planted.mkdir()
    server._hand_over(planted)  # as root, the cluster's user owns it
    planted.chmod(0o777)  # mkdir's mode is filtered by the umask
    _one_line(_refused_start(reachable / "ws", data_dir=planted), f"others can write to the data folder {planted}")
    planted.chmod(0o700)
    (planted / "postgresql.conf").write_text("listen_addresses = '*'\n")
    _one_line(_refused_start(reachable / "ws", data_dir=planted), f"the data folder {planted} is not empty")
    if AS_ROOT:
        os.chown(planted, 65534, 65534)  # nobody's: another user made it
        _one_line(_refused_start(reachable / "ws", data_dir=planted), f"the data folder {planted} belongs to nobody")
    assert not (planted / "PG_VERSION").exists()


@pytest.mark.skipif(not AS_ROOT, reason="only root runs the cluster as another user (postgres)")
def test_as_root_a_workspace_postgres_cannot_reach_is_refused_before_initdb(tmp_path: Path) -> None:
    tmp_path.chmod(0o700)
    refused = _refused_start(tmp_path / "ws")
    _one_line(refused, "the postgres user, who runs the cluster, cannot enter", "--data-dir PATH")
    assert not (tmp_path / "ws" / "server" / "postgres").exists()


def test_a_kept_data_folder_that_is_gone_or_another_one_is_refused(tmp_path: Path) -> None:
    home = server.folder(tmp_path / "ws")
    home.mkdir(parents=True)
    made = (home / "postgres").resolve()
    (home / server.KEPT_FILE).write_text(f'{{"data": "{made}", "port": 5000, "postgres_port": 5001}}')
    with pytest.raises(CreditopsError) as refused:
        server.data_folder(home)
    _one_line(refused, f"the team store's data folder {made} is gone or emptied", f"remove {home / 'store.json'}")
    with pytest.raises(CreditopsError) as refused:
        server.data_folder(home, tmp_path / "elsewhere")
    _one_line(refused, f"keeps its data in {made}, not {tmp_path / 'elsewhere'}: start it without --data-dir")
    (home / server.KEPT_FILE).write_text("{not json")
    with pytest.raises(CreditopsError) as refused:
        server.kept_settings(home)
    _one_line(refused, "is not a team store record")


def test_make_clean_keeps_the_team_store_and_says_so(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    for path in (".creditops/server/postgres/PG_VERSION", ".creditops/data/x.parquet", ".venv/bin/python"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x")
    clean = ["make", "--no-print-directory", "-f", str(REPO / "Makefile"), "clean"]
    done = subprocess.run(clean, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "kept .creditops/server (the team store's database): remove it by hand" in done.stdout
    assert (tmp_path / ".creditops/server/postgres/PG_VERSION").is_file()
    assert sorted(path.name for path in (tmp_path / ".creditops").iterdir()) == ["server"]
    assert not (tmp_path / ".venv").exists()
    shutil.rmtree(tmp_path / ".creditops/server")
    done = subprocess.run(clean, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "kept" not in done.stdout
    assert not (tmp_path / ".creditops").exists()


def _listening(port: int) -> socket.socket:
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", port))
    holder.listen()
    return holder


@pytest.mark.e2e
@needs_postgres
def test_the_store_keeps_its_data_and_ports_across_restarts_and_refuses_a_taken_port(
    reachable: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = reachable / "ws"
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))  # where the data went as root, before
    first = server.start(workspace)
    try:
        data = Path(first.postgres_data or "")
        assert data == (workspace / "server" / "postgres").resolve()
        assert not data.is_relative_to(tempfile.gettempdir())
        assert list(system_tmp.iterdir()) == []
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert data.stat().st_uid == (server._postgres_user().pw_uid if AS_ROOT else os.geteuid())
        kept = server.kept_settings(server.folder(workspace))
        assert kept == server.Kept(str(data), first.port, first.postgres_port)
        assert f"127.0.0.1:{first.postgres_port}:" in (workspace / "server" / "pgpass").read_text()
        admin = server.admin_credentials(workspace)
        with team_users.signed_in(first.tracking_uri, admin), _server_log_on_failure(workspace):
            MlflowClient(first.tracking_uri).create_registered_model("kept-model")
        server.stop(workspace)

        again = server.start(workspace)
        assert (again.tracking_uri, again.postgres_port, again.postgres_data) == (
            first.tracking_uri,
            first.postgres_port,
            first.postgres_data,
        )
        with team_users.signed_in(again.tracking_uri, admin):
            assert MlflowClient(again.tracking_uri).get_registered_model("kept-model").name == "kept-model"
        server.stop(workspace)

        with _listening(first.port):
            environ = {key: value for key, value in os.environ.items() if not key.startswith("CREDITOPS_")}
            environ["CREDITOPS_WORKSPACE"] = str(workspace)
            done = subprocess.run(
                [sys.executable, "-m", "creditops", "server", "start"], env=environ, capture_output=True, text=True
            )
        assert done.returncode == 1, done.stdout + done.stderr
        assert (
            f"port {first.port}, kept for this team store's MLflow server, is taken by another process" in done.stderr
        )
        assert "choose another port with --port" in done.stderr
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) <= 3  # one message, wrapped at most by the terminal width
        with _listening(first.postgres_port or 0), pytest.raises(CreditopsError) as refused:
            server.start(workspace)
        _one_line(refused, f"port {first.postgres_port}, kept for this team store's PostgreSQL", "--postgres-port")
        assert not (data / "postmaster.pid").exists()
    finally:
        server.stop(workspace)
