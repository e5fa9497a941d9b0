"""Starlette's warning on MLflow's import of its WSGI middleware is ignored where creditops reaches MLflow's
server, and only that warning."""

import os
import subprocess
import sys
import warnings

from creditops.tracking.server import STARLETTE_WSGI_WARNING, quiet_warnings, wsgi_warning_ignored


def test_only_that_warning_is_ignored_and_only_in_the_block() -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with wsgi_warning_ignored():
            warnings.warn(f"{STARLETTE_WSGI_WARNING} and will be removed", UserWarning, stacklevel=1)
            warnings.warn("another warning", UserWarning, stacklevel=1)
        warnings.warn(f"{STARLETTE_WSGI_WARNING} after the block", UserWarning, stacklevel=1)
    assert [str(item.message) for item in seen] == ["another warning", f"{STARLETTE_WSGI_WARNING} after the block"]


def test_a_server_process_keeps_the_filters_it_was_given() -> None:
    assert quiet_warnings({}) == {"PYTHONWARNINGS": f"ignore:{STARLETTE_WSGI_WARNING}:UserWarning"}
    given = quiet_warnings({"PYTHONWARNINGS": "error::DeprecationWarning"})["PYTHONWARNINGS"]
    assert given == f"error::DeprecationWarning,ignore:{STARLETTE_WSGI_WARNING}:UserWarning"


def test_importing_mlflows_server_in_a_server_process_is_quiet() -> None:
    importing = [sys.executable, "-c", "import mlflow.server.auth.client"]
    environ = {key: value for key, value in os.environ.items() if key != "PYTHONWARNINGS"}
    loud = subprocess.run(importing, env=environ, capture_output=True, text=True, check=True, timeout=120)
    assert STARLETTE_WSGI_WARNING in loud.stderr  # what the filter is for: MLflow's import warns
    quiet = subprocess.run(
        importing, env={**environ, **quiet_warnings(environ)}, capture_output=True, text=True, check=True, timeout=120
    )
    assert STARLETTE_WSGI_WARNING not in quiet.stderr
