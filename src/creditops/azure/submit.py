"""Submit rendered specs to an Azure ML workspace with MLClient (needs `pip install creditops[azure]`)."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from creditops.azure.workspace import client, require_workspace
from creditops.errors import CreditopsError
from creditops.say import Say

FAILED: Final = frozenset({"Failed", "Canceled", "NotResponding"})


def submit(specs: Path, variables: Mapping[str, str], *, wait: bool = True, say: Say = print, ml: Any = None) -> str:
    """Create the compute, environment and data assets, then the pipeline job; with `wait`, stream it
    until it ends. Its studio URL; a failed job is a one-line error naming it.

    `variables` name the workspace (read from the process environment by the caller); `ml` is an
    MLClient already connected (tests pass a stand-in).
    """
    if not (specs / "pipeline.yml").is_file():
        raise CreditopsError(f"{specs / 'pipeline.yml'} not found: run 'creditops azure render --out {specs}' first")
    if ml is None:
        require_workspace(variables, f"submitting {specs / 'pipeline.yml'}")
        ml = client(variables)
    from azure.ai.ml import load_compute, load_data, load_environment, load_job

    ml.compute.begin_create_or_update(load_compute(specs / "compute.yml")).result()
    ml.environments.create_or_update(load_environment(specs / "environment.yml"))
    for name in ("data-input.yml", "data-config.yml"):
        ml.data.create_or_update(load_data(specs / name))
    job = ml.jobs.create_or_update(load_job(specs / "pipeline.yml"))
    where = str(job.studio_url or job.name)
    say(f"submitted {job.name}: {where}")
    if not wait:
        return where
    ml.jobs.stream(job.name)
    status = ml.jobs.get(job.name).status
    if status in FAILED:
        raise CreditopsError(f"pipeline job {job.name} ended {status}: see {where}")
    say(f"pipeline job {job.name} {status}")
    return where
