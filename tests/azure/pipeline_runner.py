"""Run a rendered pipeline job's steps as Azure ML runs them: each step's component command from its `code:`
folder, with `${{inputs.*}}`/`${{outputs.*}}` bound to local folders as Azure ML mounts them.

The job is the SDK's own dictionary of it (`load_job(...)._to_dict()`: components inlined, code paths
resolved), what the service receives. Used by test_rendered_pipeline.py (in a virtual environment built
from the rendered conda file) and by the stand-in's `jobs.create_or_update` (in this interpreter).
"""

import contextlib
import importlib
import io
import os
import re
import shlex
import subprocess  # nosec B404
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BINDING = re.compile(r"\$\{\{(inputs|outputs)\.(\w+)\}\}")
IN_PROCESS = "in-process"
"""`python` for `run_steps` that calls each step module's `main(argv)` in this interpreter, with the job's
variables set while it runs: the same commands without four interpreter starts (seconds each)."""
_ENVIRON_LOCK = threading.Lock()


@dataclass(frozen=True)
class StepRun:
    name: str
    returncode: int
    stdout: str
    stderr: str


def _bound(value: Any, scratch: Path, parent_inputs: Mapping[str, Path]) -> Path:
    """Where Azure ML would mount the pipeline binding `value`."""
    binding = str(value["path"] if isinstance(value, dict) else value)
    if binding.startswith("${{parent.inputs."):
        return parent_inputs[binding.removeprefix("${{parent.inputs.").removesuffix("}}")]
    producer, _, output = binding.removeprefix("${{parent.jobs.").removesuffix("}}").partition(".outputs.")
    return scratch / producer / output


def _producers(node: Mapping[str, Any]) -> set[str]:
    bindings = (str(value["path"] if isinstance(value, dict) else value) for value in node["inputs"].values())
    return {b.removeprefix("${{parent.jobs.").split(".")[0] for b in bindings if b.startswith("${{parent.jobs.")}


def _in_order(nodes: Mapping[str, Any]) -> list[str]:
    order: list[str] = []
    while len(order) < len(nodes):
        ready = [name for name in nodes if name not in order and _producers(nodes[name]) <= set(order)]
        if not ready:
            raise ValueError(f"the steps {sorted(set(nodes) - set(order))} wait for each other")
        order.append(ready[0])
    return order


def run_steps(
    job: Mapping[str, Any],
    parent_inputs: Mapping[str, Path],
    scratch: Path,
    python: str,
    environ: Mapping[str, str],
    timeout: float = 600,
) -> list[StepRun]:
    """Run the job's steps in the order their bindings make (a step after the steps whose outputs it reads,
    as the service schedules the graph) until one fails; what each did."""
    done: list[StepRun] = []
    for name in _in_order(job["jobs"]):
        node = job["jobs"][name]
        component = node["component"]
        inputs = {key: _bound(value, scratch, parent_inputs) for key, value in node["inputs"].items()}
        outputs = {key: scratch / name / key for key in node["outputs"]}
        for folder in outputs.values():
            folder.mkdir(parents=True, exist_ok=True)
        bound = {"inputs": inputs, "outputs": outputs}
        command = BINDING.sub(lambda m, bound=bound: str(bound[m[1]][m[2]]), component["command"])
        arguments = shlex.split(command)
        if arguments[0] != "python":
            raise ValueError(f"step {name} runs {arguments[0]}, not python")
        variables = {**environ, **(node.get("environment_variables") or {})}
        if python == IN_PROCESS:
            run = _in_process(name, arguments[1:], variables)
        else:
            ran = subprocess.run(  # nosec B603
                [python, *arguments[1:]],
                cwd=Path(component["code"]).resolve(),
                env=variables,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            run = StepRun(name, ran.returncode, ran.stdout, ran.stderr)
        done.append(run)
        if run.returncode != 0:
            break
    return done


def _in_process(name: str, arguments: list[str], variables: Mapping[str, str]) -> StepRun:
    """`python -m MODULE ARGS` as `MODULE.main(ARGS)`, with `variables` set (PATH and HOME left alone)."""
    if arguments[0] != "-m":
        raise ValueError(f"step {name} runs a script, not a module: {arguments}")
    module = importlib.import_module(arguments[1])
    out, err = io.StringIO(), io.StringIO()
    with _ENVIRON_LOCK:
        saved = dict(os.environ)
        os.environ.update({key: value for key, value in variables.items() if key not in ("PATH", "HOME")})
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = int(module.main(arguments[2:]))
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return StepRun(name, code, out.getvalue(), err.getvalue())
