"""Two versions of the project's model registered by the real pipeline on tiny data, in a fresh workspace:
version 1 with 5 trees and the UCI contract, version 2 with 30 trees and a contract where BILL_AMT6 is
ignored rather than a feature."""

import json
from pathlib import Path

import yaml

from creditops.config.modelling import ModellingConfig, load_modelling_config
from creditops.context import Context
from creditops.data.contract import BUILT_IN
from creditops.data.io import write_table
from creditops.data.synth import synthesize
from creditops.pipeline import run_pipeline

ROWS = 1_000
SEED = 7
_BUILT: dict[Path, Context] = {}
"""Made once per test process: the tests that use it only read the store."""


def register_two_versions(root: Path) -> Context:
    """`root/workspace` with its store holding versions 1 and 2 (see the module's docstring); made once."""
    if root not in _BUILT:
        _BUILT[root] = _register(root)
    return _BUILT[root]


def _register(root: Path) -> Context:
    root.mkdir(parents=True, exist_ok=True)
    context = Context.local(root / "workspace")
    data = write_table(synthesize(ROWS, SEED), root / "input" / "credit_default.csv")
    schema = yaml.safe_load(BUILT_IN.read_text(encoding="utf-8"))
    schema["columns"]["BILL_AMT6"]["role"] = "ignore"
    for group in schema["reasons"]:
        group["columns"] = [name for name in group["columns"] if name != "BILL_AMT6"]
    (root / "schema.yaml").write_text(yaml.safe_dump(schema, sort_keys=False), encoding="utf-8")
    config = root / "modelling.json"
    config.write_text(json.dumps({"train": {"n_estimators": 30}, "data": {"schema_file": "schema.yaml"}}))
    first = run_pipeline(data, ModellingConfig.model_validate({"train": {"n_estimators": 5}}), context)
    second = run_pipeline(data, load_modelling_config(config), context)
    registered = [result.registration.version if result.registration else None for result in (first, second)]
    if registered != ["1", "2"]:
        raise RuntimeError(f"expected versions 1 and 2, got {first.registration} and {second.registration}")
    return context
