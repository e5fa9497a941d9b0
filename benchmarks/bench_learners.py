"""Benchmark: every learner on the same split, with the config's defaults: ROC AUC on the test part, fit time
(median of --repeats fits), and the time of one scoring and one contribution pass over the test part.

    python benchmarks/bench_learners.py [--data FILE | --rows 30000 --seed 2005] [--repeats 3]

The data are FILE (e.g. written by `creditops data synth --rows 30000 --seed 2005 --output FILE`), else
synthesized in memory; either is split 75/25 with seed 42 as data_prep does.
"""

import argparse
import statistics
import time
from pathlib import Path

from sklearn.metrics import roc_auc_score

from creditops.config.modelling import ModellingConfig
from creditops.data.contract import uci
from creditops.data.io import read_table
from creditops.data.split import split
from creditops.data.synth import synthesize
from creditops.modelling.estimators import train_model
from creditops.modelling.learners import LEARNERS
from creditops.modelling.reasons import contributions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="A UCI-layout file to use instead of synthesized data")
    parser.add_argument("--rows", type=int, default=30_000, help="Rows to synthesize")
    parser.add_argument("--seed", type=int, default=2005, help="Seed of the synthetic data")
    parser.add_argument("--repeats", type=int, default=3, help="Fits per learner; the median time is shown")
    args = parser.parse_args(argv)
    contract = uci()
    frame = read_table(args.data, contract) if args.data is not None else synthesize(args.rows, args.seed)
    train, test = split(frame, contract.labels(frame), test_ratio=0.25, seed=42)
    features, labels = contract.feature_matrix(train), contract.labels(train)
    matrix = contract.feature_matrix(test)
    print("learner | ROC AUC | fit s (median) | score test s | contributions test s")
    for name in LEARNERS:
        settings = ModellingConfig.model_validate({"train": {"algorithm": name}}).train
        params = settings.learner_params().model_dump()
        times = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            model = train_model(
                features, labels, algorithm=name, params=params, seed=settings.random_seed, contract=contract
            )
            times.append(time.perf_counter() - started)
        started = time.perf_counter()
        probability = model.predict_proba(matrix)
        scored = time.perf_counter() - started
        started = time.perf_counter()
        contributions(model, matrix)
        explained = time.perf_counter() - started
        auc = roc_auc_score(contract.labels(test), probability)
        print(f"{name} | {auc:.4f} | {statistics.median(times):.2f} | {scored:.3f} | {explained:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
