"""Write the README's pictures of a model card and a drift page: real pages, shot in headless Chromium.

    .venv/bin/python tools/screenshots.py [--out docs/images]

A small synthetic data set, a model trained on it, its card, and the drift page of delinquency-drifted
traffic against it; each page rendered by Debian's Chromium (`apt-get install chromium`) to PNG.
"""

import argparse
import shutil
import subprocess  # nosec B404
import tempfile
from pathlib import Path

from creditops.config.environments import MonitoringSettings
from creditops.data.contract import uci
from creditops.data.split import split
from creditops.data.synth import synthesize
from creditops.modelling.estimators import train_model
from creditops.monitoring.drift import compare
from creditops.monitoring.page import render as render_drift
from creditops.report.model_card import CardInputs
from creditops.report.model_card import render as render_card

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        parser.error("Chromium is not installed: apt-get install chromium")
    args.out.mkdir(parents=True, exist_ok=True)
    frame = synthesize(20_000, seed=2005)
    contract = uci()
    train, test = split(frame, contract.labels(frame), test_ratio=0.25, seed=42)
    model = train_model(
        contract.feature_matrix(train),
        contract.labels(train),
        algorithm="lightgbm",
        params={"n_estimators": 100, "learning_rate": 0.05, "num_leaves": 31},
        seed=0,
        contract=contract,
    )
    with tempfile.TemporaryDirectory() as scratch:
        card = render_card(
            CardInputs(
                title="credit_default_model version 1", model=model, data=test, lineage={"git_commit": "4a110d5"}
            ),
            Path(scratch) / "card.html",
        )
        drifted = synthesize(2_000, seed=12, drift="delinquency")
        columns = contract.request_columns
        reference, live = contract.encoded(test, columns), contract.encoded(drifted, columns)
        probabilities = model.predict_proba(test), model.predict_proba(drifted)
        report = compare(reference, live, *probabilities, MonitoringSettings(), columns, contract.coded_columns)
        drift = render_drift(
            report, reference, live, "Drift on creditops-prod (prod, model version 1)", Path(scratch) / "drift.html"
        )
        for page, name, size in ((card, "model-card.png", "1200,2600"), (drift, "drift-page.png", "1400,2200")):
            subprocess.run(  # nosec B603: a fixed argument list, no shell
                [
                    chromium,
                    *CHROMIUM_FLAGS,
                    f"--user-data-dir={scratch}/profile",
                    f"--window-size={size}",
                    f"--screenshot={args.out / name}",
                    page.as_uri(),
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
            print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
