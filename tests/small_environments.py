"""The repository's environment files made small for tests: little data, a short gate, free ports."""

from pathlib import Path

import yaml

from creditops import processes

REPO = Path(__file__).resolve().parents[1]


def write_small_environments(project: Path) -> None:
    """config/environments/*.yaml under `project`: the repository's, with 2,500 rows, a 100-sample
    bootstrap, lenient gate limits for small data and free endpoint ports."""
    (project / "config" / "environments").mkdir(parents=True, exist_ok=True)
    for name in ("dev", "staging", "prod"):
        settings = yaml.safe_load((REPO / "config" / "environments" / f"{name}.yaml").read_text())
        settings["data"]["rows"] = 2_500
        settings["endpoint"]["port"] = processes.free_port()
        settings["gate"]["min_roc_auc"] = 0.6
        settings["gate"]["bootstrap_samples"] = 100
        settings["gate"]["max_roc_auc_drop"] = 0.05  # small data: let a slightly different model through
        settings["gate"]["slice_tolerance"] = 0.2
        (project / "config" / "environments" / f"{name}.yaml").write_text(yaml.safe_dump(settings))
