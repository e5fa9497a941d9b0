"""A team store with one command: an authenticated MLflow tracking server on PostgreSQL.

`creditops server start` creates (once) a PostgreSQL cluster in the workspace (or in a folder given
once with `data_dir`, never a temporary one), starts it on 127.0.0.1, and starts `mlflow server` on it
with an artifact store it proxies and MLflow's authentication app, so CI jobs on other runners share
runs, versions, aliases and evidence through one URI, each under its own account. Both ports are chosen
on the first start and kept in `store.json`, so that URI, kept by CI as a secret, stays valid. The
database password lives in a 0600 `pgpass` file that libpq reads, the admin password and the Flask
secret key in 0600 files: none is on a command line or printed. With `backend_uri`, an existing
PostgreSQL is used instead and no cluster is made.
"""

import contextlib
import importlib.util
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess  # nosec B404
import sys
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import httpx

from creditops import processes
from creditops.errors import CreditopsError
from creditops.files import read_json, scratch_dir, write_json, write_text

ADMIN = "admin"
DATABASE = "mlflow"
ROLE = "mlflow"
STATE_FILE = "server.json"
KEPT_FILE = "store.json"
NO_POSTGRES = (
    "PostgreSQL is not installed: install it (Debian: apt-get install postgresql) or use an existing one with"
    " --backend-store-uri postgresql://USER@HOST:PORT/DB"
)


STARLETTE_WSGI_WARNING = "starlette.middleware.wsgi is deprecated"
"""How the warning begins that Starlette gives when its WSGI middleware is imported, as MLflow's server does
(mlflow.server.fastapi_app, reached by `mlflow server`, `mlflow ui` and any import of mlflow.server.auth):
meant for MLflow's maintainers, it reached creditops' users on every server command."""


@contextlib.contextmanager
def wsgi_warning_ignored() -> Iterator[None]:
    """For the block, that one warning (its category and message) is not shown; every other warning is."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=re.escape(STARLETTE_WSGI_WARNING), category=UserWarning)
        yield


def quiet_warnings(environ: Mapping[str, str]) -> dict[str, str]:
    """PYTHONWARNINGS for an MLflow server started with `environ`: that one warning ignored, the filters
    `environ` sets kept."""
    ours = f"ignore:{STARLETTE_WSGI_WARNING}:UserWarning"
    given = environ.get("PYTHONWARNINGS")
    return {"PYTHONWARNINGS": f"{given},{ours}" if given else ours}


@dataclass
class TeamStore:
    """What `server start` started, where: read by `status` and `stop`."""

    tracking_uri: str
    port: int
    pid: int
    backend: str
    artifacts: str
    postgres_data: str | None = None
    postgres_port: int | None = None


@dataclass(frozen=True)
class Kept:
    """What the store keeps across restarts in `store.json`, which `stop` leaves in place.

    `data` is written right after `initdb` made the cluster: it is the marker that creditops made that
    folder, without which a non-empty data folder is refused. The ports are chosen on the first start.
    """

    data: str | None = None
    port: int | None = None
    postgres_port: int | None = None


def folder(workspace: Path) -> Path:
    return workspace / "server"


def status(workspace: Path) -> tuple[TeamStore | None, bool]:
    """The recorded store and whether its MLflow server answers."""
    path = folder(workspace) / STATE_FILE
    if not path.is_file():
        return None, False
    store = TeamStore(**read_json(path))
    try:
        healthy = httpx.get(f"{store.tracking_uri}/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        healthy = False
    return store, healthy and processes.alive(store.pid, marker=b"mlflow")


def start(
    workspace: Path,
    *,
    port: int | None = None,
    backend_uri: str | None = None,
    artifacts: Path | None = None,
    data_dir: Path | None = None,
    postgres_port: int | None = None,
) -> TeamStore:
    """Start the team store (a no-op that says where it is when it already runs)."""
    running, healthy = status(workspace)
    if running is not None and healthy:
        return running
    for module, what in (("psycopg", "the PostgreSQL driver"), ("flask_wtf", "MLflow's authentication app")):
        if importlib.util.find_spec(module) is None:
            raise CreditopsError(f"{what} is missing: pip install 'creditops[server]'")
    if backend_uri is not None and not backend_uri.startswith(("postgresql://", "postgresql+")):
        raise CreditopsError(f"--backend-store-uri must be a postgresql:// URI, not {backend_uri.split(':', 1)[0]}:…")
    if backend_uri is not None and (data_dir is not None or postgres_port is not None):
        raise CreditopsError(
            "--data-dir and --postgres-port are for the cluster 'server start' makes, not with --backend-store-uri"
        )
    home = folder(workspace)
    home.mkdir(parents=True, exist_ok=True)
    if running is not None:  # recorded but not answering: it goes before its port is checked
        processes.stop(running.pid, marker=b"mlflow")
    kept = kept_settings(home)
    port = _port(port, kept.port, "--port", "MLflow server")
    pgpass = home / "pgpass"
    data, pg_port = None, None
    if backend_uri is None:
        data, pg_port = _start_postgres(home, pgpass, data_dir, postgres_port, port)
        backend_uri = f"postgresql://{ROLE}@127.0.0.1:{pg_port}/{DATABASE}"
    artifacts = (artifacts or home / "artifacts").resolve()
    artifacts.mkdir(parents=True, exist_ok=True)
    log = home / "logs" / "mlflow-server.log"
    mlflow = Path(sys.executable).with_name("mlflow")
    arguments = [str(mlflow), "server", "--backend-store-uri", backend_uri, "--artifacts-destination", str(artifacts)]
    arguments += ["--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    arguments += ["--app-name", "creditops-auth"]  # basic-auth, and who registered each version (auth_app)
    environ = {**_auth_environ(home), **({"PGPASSFILE": str(pgpass)} if pgpass.is_file() else {})}
    environ["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"  # GenAI job runners (7 processes) creditops never uses
    environ.update(quiet_warnings(os.environ))
    _bootstrap_admin(environ, log)
    pid = processes.start_command(arguments, log, env=environ)
    store = TeamStore(f"http://127.0.0.1:{port}", port, pid, _redacted(backend_uri), str(artifacts), data, pg_port)
    write_json(home / STATE_FILE, asdict(store))
    try:
        processes.wait_until(f"{store.tracking_uri}/health", pid, log, timeout=180.0, marker=b"mlflow")
        from creditops.tracking import team_users

        team_users.prepare(store.tracking_uri, admin_credentials(workspace))
    except CreditopsError:
        stop(workspace)
        raise
    _keep(home, replace(kept_settings(home), port=port))
    return store


def kept_settings(home: Path) -> Kept:
    """The data folder and ports this server folder's store keeps (nothing yet before its first start)."""
    path = home / KEPT_FILE
    if not path.is_file():
        return Kept()
    try:
        return Kept(**read_json(path))
    except (ValueError, TypeError) as error:
        raise CreditopsError(
            f"{path} is not a team store record ({error}): restore it, or remove it to start anew"
        ) from error


def _keep(home: Path, kept: Kept) -> None:
    write_json(home / KEPT_FILE, asdict(kept))


def _port(asked: int | None, kept: int | None, option: str, what: str, other: int | None = None) -> int:
    """The port asked for, else the one kept, else a free one (and not `other`, the store's other port)."""
    port = asked or kept
    if port is None:
        port = processes.free_port()
        while port == other:
            port = processes.free_port()
        return port
    if port == other:
        raise CreditopsError(f"port {port} would serve both MLflow and PostgreSQL: choose another --port or {option}")
    if processes.port_in_use(port):
        if asked is not None:
            raise CreditopsError(f"port {port} is in use: choose another {option}")
        raise CreditopsError(
            f"port {port}, kept for this team store's {what}, is taken by another process: stop that process,"
            f" or choose another port with {option}" + (" (and give CI the new URI)" if option == "--port" else "")
        )
    return port


def admin_credentials(workspace: Path) -> tuple[str, str]:
    """The store's admin user and password (made on first start, kept 0600 in the server folder)."""
    secret = folder(workspace) / "auth" / "admin.secret"
    if not secret.is_file():
        raise CreditopsError("this workspace has no team store: start one with 'creditops server start'")
    return ADMIN, secret.read_text(encoding="utf-8").strip()


def _bootstrap_admin(environ: dict[str, str], log: Path) -> None:
    """Make the admin account once, before the server's workers start, as `mlflow server` does for its own
    basic-auth app (it does so for no other app name); the workers are told it is done."""
    command = [
        sys.executable,
        "-c",
        "from mlflow.server.auth import bootstrap_admin_user as b, get_flask_server_secret_key as k; k(); b()",
    ]
    log.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(  # nosec B603
        command, env={**os.environ, **environ}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        log.write_text(done.stdout + done.stderr, encoding="utf-8")
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise CreditopsError(f"the team store's admin account could not be made: {last} (see {log})")
    environ["_MLFLOW_AUTH_ADMIN_BOOTSTRAPPED"] = "true"


def _auth_environ(home: Path) -> dict[str, str]:
    """MLflow's authentication app, configured by file and variables: no password in the file or on a command
    line, no well-known default; the admin password and the Flask secret key are made on first start."""
    auth = home / "auth"
    auth.mkdir(mode=0o700, exist_ok=True)
    secrets_made = {}
    for name in ("admin.secret", "flask.secret"):
        path = auth / name
        if not path.is_file():
            write_text(path, secrets.token_urlsafe(32), mode=0o600)
        secrets_made[name] = path.read_text(encoding="utf-8").strip()
    config = auth / "basic_auth.ini"
    write_text(
        config,
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{auth / 'users.db'}\n"
        f"admin_username = {ADMIN}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        # each request would otherwise pay a PBKDF2 check (a release makes hundreds); a changed or
        # removed password is honoured by every server worker within this many seconds
        "auth_cache_ttl_seconds = 60\n",
        mode=0o600,
    )
    return {
        "MLFLOW_AUTH_CONFIG_PATH": str(config),
        "MLFLOW_AUTH_ADMIN_PASSWORD": secrets_made["admin.secret"],
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets_made["flask.secret"],
    }


def stop(workspace: Path) -> TeamStore | None:
    """Stop the MLflow server and the cluster it started; the store that was stopped, if any."""
    path = folder(workspace) / STATE_FILE
    if not path.is_file():
        return None
    store = TeamStore(**read_json(path))
    processes.stop(store.pid, marker=b"mlflow")
    if store.postgres_data is not None and (Path(store.postgres_data) / "postmaster.pid").is_file():
        _pg("pg_ctl", "stop", "-D", store.postgres_data, "-m", "fast", "-w")
    path.unlink()
    return store


def _start_postgres(
    home: Path, pgpass: Path, data_dir: Path | None, postgres_port: int | None, mlflow_port: int
) -> tuple[str, int]:
    """The data folder and port of the workspace's cluster, created on first use and started."""
    data = data_folder(home, data_dir)
    if not (data / "PG_VERSION").is_file():
        _initdb(data, pgpass)
        _keep(home, replace(kept_settings(home), data=str(data)))
    if (data / "postmaster.pid").is_file():
        _pg("pg_ctl", "stop", "-D", str(data), "-m", "fast", "-w", check=False)
    port = _port(postgres_port, kept_settings(home).postgres_port, "--postgres-port", "PostgreSQL", mlflow_port)
    options = f"-p {port} -k {data} -h 127.0.0.1"
    _pg("pg_ctl", "start", "-D", str(data), "-l", str(data / "postgres.log"), "-o", options, "-w", "-t", "60")
    _store_password(pgpass, port, (home / "pgpass.secret").read_text(encoding="utf-8"))
    _keep(home, replace(kept_settings(home), postgres_port=port))
    with contextlib.suppress(CreditopsError):  # the database exists already after the first start
        _pg("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", ROLE, DATABASE, env={"PGPASSFILE": str(pgpass)})
    return str(data), port


def _initdb(data: Path, pgpass: Path) -> None:
    password = secrets.token_urlsafe(24)
    secret = write_text(pgpass.with_name("pgpass.secret"), password, mode=0o600)
    # beside the data folder, which the cluster's user can reach (a temporary folder may not be)
    with scratch_dir(".creditops-initdb-", parent=data.parent) as scratch:
        pwfile = scratch / "pw"
        write_text(pwfile, password, mode=0o600)
        _hand_over(scratch)
        _hand_over(pwfile)
        _pg("initdb", "-D", str(data), "-U", ROLE, "--pwfile", str(pwfile), "--auth=scram-sha-256", "-E", "UTF8")
    secret.chmod(0o600)


def _store_password(pgpass: Path, port: int, password: str) -> None:
    write_text(pgpass, f"127.0.0.1:{port}:*:{ROLE}:{password}\n", mode=0o600)


def data_folder(home: Path, asked: Path | None = None) -> Path:
    """The cluster's data folder, checked and created if new: the one asked for, else the one this store made,
    else `home/postgres`. It is never in a temporary folder by default: data there goes when that folder is
    cleaned, and another user can make the folder first."""
    made = kept_settings(home).data
    default = (home / "postgres").resolve()
    data = Path(asked or made or default).resolve()
    if made is not None and Path(made) != data:
        raise CreditopsError(
            f"this workspace's team store keeps its data in {made}, not {data}: start it without --data-dir,"
            f" or remove {home / KEPT_FILE} to make a new, empty store"
        )
    if made is None and data == default and (home / "pgpass.secret").is_file() and (data / "PG_VERSION").is_file():
        made = str(data)  # made by a creditops that had no marker yet: its password file is beside it
        _keep(home, replace(kept_settings(home), data=made))
    if made is not None and not (data / "PG_VERSION").is_file():
        raise CreditopsError(
            f"the team store's data folder {data} is gone or emptied, and every version and approval with it:"
            f" restore it, or remove {home / KEPT_FILE} to start a new, empty store"
        )
    owner = _postgres_user() if os.geteuid() == 0 else None
    try:
        data.parent.mkdir(parents=True, exist_ok=True)
        if owner is not None:
            _check_reachable(data.parent, owner)
        if not data.exists():
            data.mkdir(mode=0o700)
            _hand_over(data)
    except OSError as error:
        raise CreditopsError(
            f"cannot make the data folder {data} ({error.strerror}): choose another --data-dir"
        ) from error
    check_data_folder(data, os.geteuid() if owner is None else owner.pw_uid, made=made is not None)
    return data


def check_data_folder(data: Path, uid: int, *, made: bool) -> None:
    """Refuse a data folder that user `uid` (who runs the cluster) does not own, that others can write to,
    or that holds files creditops did not put there (`made`: its marker names this folder)."""
    info = os.stat(data)
    if not stat.S_ISDIR(info.st_mode):
        raise CreditopsError(f"the data folder {data} is not a folder: choose another --data-dir")
    if info.st_uid != uid:
        raise CreditopsError(
            f"the data folder {data} belongs to {_user_name(info.st_uid)}, not to {_user_name(uid)} who runs the"
            f" cluster: another user may have made it; remove it, or choose another --data-dir"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise CreditopsError(
            f"others can write to the data folder {data} (mode {stat.S_IMODE(info.st_mode):o}): chmod go-w it"
            " after checking what is in it, or choose another --data-dir"
        )
    if not made and any(data.iterdir()):
        raise CreditopsError(
            f"the data folder {data} is not empty and creditops made no cluster there (its {KEPT_FILE} does not"
            " name it): choose an empty or new --data-dir"
        )


def enterable(info: os.stat_result, uid: int, groups: set[int]) -> bool:
    """Whether user `uid` in `groups` may enter a folder with this status, by its mode bits (ACLs are not read):
    the owner's bit alone applies to the owner, the group's to its members."""
    if info.st_uid == uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid in groups:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def unreachable(folder: Path, uid: int, groups: set[int]) -> Path | None:
    """The first folder on the way to `folder` (itself included) that user `uid` in `groups` may not enter."""
    for step in [*reversed(folder.parents), folder]:
        if not enterable(os.stat(step), uid, groups):
            return step
    return None


def _check_reachable(folder: Path, owner: pwd.struct_passwd) -> None:
    """As root, PostgreSQL runs as `owner`, which must reach its data folder: refused here, not inside initdb."""
    blocked = unreachable(folder, owner.pw_uid, set(os.getgrouplist(owner.pw_name, owner.pw_gid)))
    if blocked is not None:
        raise CreditopsError(
            f"the {owner.pw_name} user, who runs the cluster, cannot enter {blocked}"
            f" (mode {stat.S_IMODE(os.stat(blocked).st_mode):o}): choose a data folder it can reach with"
            " --data-dir PATH (e.g. /var/lib/creditops/postgres)"
        )


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _postgres_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam("postgres")
    except KeyError as error:
        raise CreditopsError(
            "running as root, the PostgreSQL cluster needs the 'postgres' user (Debian's postgresql package makes it)"
        ) from error


def _hand_over(path: Path) -> None:
    if os.geteuid() == 0:
        owner = _postgres_user()
        os.chown(path, owner.pw_uid, owner.pw_gid)


def _pg(program: str, *arguments: str, check: bool = True, env: dict[str, str] | None = None) -> None:
    """Run a PostgreSQL program (as the `postgres` user when this is root); a one-line error on failure."""
    command = [_pg_binary(program), *arguments]
    # The cluster's own programs run as its owner; createdb is a client over TCP with the pgpass file,
    # which libpq accepts only from the user who owns it (this one)
    if os.geteuid() == 0 and program != "createdb":
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(  # nosec B603
        command, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False, timeout=120
    )
    if check and done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()
        raise CreditopsError(f"{program} failed: {last[-1] if last else f'exit code {done.returncode}'}")


def _pg_binary(program: str) -> str:
    found = shutil.which(program)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"), key=lambda p: int(p.parts[-3]))
    if not versions:
        raise CreditopsError(NO_POSTGRES)
    return str(versions[-1])


def available() -> bool:
    """Whether PostgreSQL's server programs are installed here."""
    try:
        _pg_binary("initdb")
        _pg_binary("pg_ctl")
    except CreditopsError:
        return False
    return True


def _redacted(uri: str) -> str:
    from creditops.context import redacted

    return redacted(uri)
