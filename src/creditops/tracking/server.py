"""A team store with one command: an authenticated MLflow tracking server on PostgreSQL.

`creditops server start` creates (once) a PostgreSQL cluster in the workspace, starts it on
127.0.0.1, and starts `mlflow server` on it with an artifact store it proxies and MLflow's
authentication app, so CI jobs on other runners share runs, versions, aliases and evidence through one
URI, each under its own account. The database password lives in a 0600 `pgpass` file that libpq reads,
the admin password and the Flask secret key in 0600 files: none is on a command line or printed. With
`backend_uri`, an existing PostgreSQL is used instead and no cluster is made.
"""

import contextlib
import hashlib
import importlib.util
import os
import pwd
import secrets
import shutil
import subprocess  # nosec B404
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from creditops import processes
from creditops.errors import CreditopsError
from creditops.files import read_json, write_json, write_text

ADMIN = "admin"
DATABASE = "mlflow"
ROLE = "mlflow"
STATE_FILE = "server.json"
NO_POSTGRES = (
    "PostgreSQL is not installed: install it (Debian: apt-get install postgresql) or use an existing one with"
    " --backend-store-uri postgresql://USER@HOST:PORT/DB"
)


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
) -> TeamStore:
    """Start the team store (a no-op that says where it is when it already runs)."""
    running, healthy = status(workspace)
    if running is not None and healthy:
        return running
    for module, what in (("psycopg", "the PostgreSQL driver"), ("flask_wtf", "MLflow's authentication app")):
        if importlib.util.find_spec(module) is None:
            raise CreditopsError(f"{what} is missing: pip install 'creditops[server]'")
    home = folder(workspace)
    home.mkdir(parents=True, exist_ok=True)
    pgpass = home / "pgpass"
    data, pg_port = None, None
    if backend_uri is None:
        data, pg_port = _start_postgres(home, pgpass)
        backend_uri = f"postgresql://{ROLE}@127.0.0.1:{pg_port}/{DATABASE}"
    elif not backend_uri.startswith(("postgresql://", "postgresql+")):
        raise CreditopsError(f"--backend-store-uri must be a postgresql:// URI, not {backend_uri.split(':', 1)[0]}:…")
    artifacts = (artifacts or home / "artifacts").resolve()
    artifacts.mkdir(parents=True, exist_ok=True)
    port = port or processes.free_port()
    if processes.port_in_use(port):
        raise CreditopsError(f"port {port} is in use: choose another --port")
    log = home / "logs" / "mlflow-server.log"
    mlflow = Path(sys.executable).with_name("mlflow")
    arguments = [str(mlflow), "server", "--backend-store-uri", backend_uri, "--artifacts-destination", str(artifacts)]
    arguments += ["--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    arguments += ["--app-name", "basic-auth"]
    environ = {**_auth_environ(home), **({"PGPASSFILE": str(pgpass)} if pgpass.is_file() else {})}
    environ["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"  # GenAI job runners (7 processes) creditops never uses
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
    return store


def admin_credentials(workspace: Path) -> tuple[str, str]:
    """The store's admin user and password (made on first start, kept 0600 in the server folder)."""
    secret = folder(workspace) / "auth" / "admin.secret"
    if not secret.is_file():
        raise CreditopsError("this workspace has no team store: start one with 'creditops server start'")
    return ADMIN, secret.read_text(encoding="utf-8").strip()


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


def _start_postgres(home: Path, pgpass: Path) -> tuple[str, int]:
    """The data folder and port of the workspace's cluster, created on first use and started."""
    data = _data_folder(home)
    if not (data / "PG_VERSION").is_file():
        _initdb(data, pgpass)
    port = processes.free_port()
    if (data / "postmaster.pid").is_file():
        _pg("pg_ctl", "stop", "-D", str(data), "-m", "fast", "-w", check=False)
    options = f"-p {port} -k {data} -h 127.0.0.1"
    _pg("pg_ctl", "start", "-D", str(data), "-l", str(data / "postgres.log"), "-o", options, "-w", "-t", "60")
    _store_password(pgpass, port, (home / "pgpass.secret").read_text(encoding="utf-8"))
    with contextlib.suppress(CreditopsError):  # the database exists already after the first start
        _pg("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", ROLE, DATABASE, env={"PGPASSFILE": str(pgpass)})
    return str(data), port


def _initdb(data: Path, pgpass: Path) -> None:
    password = secrets.token_urlsafe(24)
    secret = write_text(pgpass.with_name("pgpass.secret"), password, mode=0o600)
    with tempfile.TemporaryDirectory() as scratch:
        pwfile = Path(scratch) / "pw"
        pwfile.write_text(password, encoding="utf-8")
        _hand_over(Path(scratch))
        _hand_over(pwfile)
        _pg("initdb", "-D", str(data), "-U", ROLE, "--pwfile", str(pwfile), "--auth=scram-sha-256", "-E", "UTF8")
    secret.chmod(0o600)


def _store_password(pgpass: Path, port: int, password: str) -> None:
    write_text(pgpass, f"127.0.0.1:{port}:*:{ROLE}:{password}\n", mode=0o600)


def _data_folder(home: Path) -> Path:
    """`home/postgres`; as root, a folder the `postgres` user owns (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return home / "postgres"
    owner = _postgres_user()
    digest = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:12]
    data = Path(tempfile.gettempdir()) / f"creditops-postgres-{digest}"
    data.mkdir(mode=0o700, exist_ok=True)
    os.chown(data, owner.pw_uid, owner.pw_gid)
    return data


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
