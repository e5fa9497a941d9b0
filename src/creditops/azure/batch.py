"""Batch scoring on Azure ML: a batch endpoint and deployment for a registry version, and the batch
smoke test of the original project (submit sample data, wait for the job, fail on a failed job)."""

import tempfile
from pathlib import Path
from typing import Any, Final

from creditops.azure.models import package_copy, spec_stream, workspace_model
from creditops.azure.render import batch_deployment_spec, compute_spec, load_model_batch_deployment
from creditops.context import Context
from creditops.errors import CreditopsError
from creditops.say import Say

DEPLOYMENT: Final = "default"
FAILED: Final = frozenset({"Failed", "Canceled", "NotResponding"})


def endpoint_name(context: Context) -> str:
    return f"creditops-{context.env.name}-batch"


def deploy_batch(ml: Any, context: Context, model_uri: str, say: Say = print) -> str:
    """The environment's batch endpoint with its one deployment serving `model_uri` on the environment's
    cluster (created when missing); the model version."""
    from azure.ai.ml import load_compute
    from azure.ai.ml.entities import BatchEndpoint

    name = endpoint_name(context)
    ml.compute.begin_create_or_update(load_compute(spec_stream(compute_spec(context.env)))).result()
    ml.batch_endpoints.begin_create_or_update(BatchEndpoint(name=name, description="creditops batch scoring")).result()
    model = workspace_model(ml, context.store_uri, model_uri)
    with tempfile.TemporaryDirectory() as scratch:
        code = package_copy(Path(scratch))
        spec = batch_deployment_spec(context.env, model.reference, str(code), model.threshold)
        ml.batch_deployments.begin_create_or_update(load_model_batch_deployment(spec_stream(spec))).result()
    default = BatchEndpoint(name=name, description="creditops batch scoring", defaults={"deployment_name": DEPLOYMENT})
    ml.batch_endpoints.begin_create_or_update(default).result()
    say(f"batch endpoint {name}: deployment {DEPLOYMENT} serves {model.reference}")
    return model.version


def batch_smoke(ml: Any, context: Context, data: Path, say: Say = print) -> str:
    """Score the files in `data` on the batch endpoint and wait for the job; its status, or a one-line
    error when the job fails."""
    from azure.ai.ml import Input

    if not data.is_dir() or not any(data.iterdir()):
        raise CreditopsError(f"{data} is not a folder of data files: the batch smoke test scores every file in it")
    job = ml.batch_endpoints.invoke(
        endpoint_name=endpoint_name(context),
        deployment_name=DEPLOYMENT,
        inputs={"input": Input(type="uri_folder", path=str(data))},
    )
    say(f"batch job {job.name} submitted")
    ml.jobs.stream(job.name)
    status = str(ml.jobs.get(job.name).status)
    if status in FAILED:
        raise CreditopsError(f"batch smoke test failed: job {job.name} ended {status}")
    say(f"batch smoke test passed: job {job.name} {status}")
    return status
