"""What leaving the protected columns out of the model costs: ROC AUC on the same split, with SEX, MARRIAGE
and AGE as features (the contract before creditops kept them out) and without (the UCI contract now), and
the fairness figures of each.

    python benchmarks/bench_protected.py [--data FILE] [--rows 30000] [--seeds 5]

Without --data the data are synthesized (`creditops data synth`, seeds 2005, 2006, …); with --data (for
example the published UCI Excel file) every seed re-splits the same rows. Prints one line per seed and
the median change.
"""

import argparse
import statistics
from pathlib import Path

import pandas as pd
from sklearn.metrics import roc_auc_score

from creditops.config.environments import GateSettings
from creditops.config.modelling import ModellingConfig
from creditops.data.contract import Contract, legacy_uci, uci
from creditops.data.io import read_table
from creditops.data.split import split
from creditops.data.synth import synthesize
from creditops.modelling.estimators import train_model
from creditops.modelling.fairness import fairness_report, protected_groups


def _auc_and_fairness(contract: Contract, train: pd.DataFrame, test: pd.DataFrame) -> tuple[float, float, float]:
    settings = ModellingConfig().train
    model = train_model(
        contract.feature_matrix(train),
        contract.labels(train),
        algorithm=settings.algorithm,
        params=settings.learner_params().model_dump(),
        seed=settings.random_seed,
        contract=contract,
    )
    probability = model.predict_proba(test)
    labels = uci().labels(test)
    limits = GateSettings()
    report = fairness_report(labels, probability, 0.5, protected_groups(uci(), test), min_rows=limits.min_group_rows)
    ratios = [column.adverse_impact_ratio for column in report.columns if column.adverse_impact_ratio is not None]
    gaps = [
        column.equalized_odds_difference for column in report.columns if column.equalized_odds_difference is not None
    ]
    return float(roc_auc_score(labels, probability)), min(ratios, default=1.0), max(gaps, default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="A UCI-layout file to use instead of synthesized data")
    parser.add_argument("--rows", type=int, default=30_000, help="Rows to synthesize per seed")
    parser.add_argument("--seeds", type=int, default=5, help="Splits (and data sets, when synthesized)")
    args = parser.parse_args()
    given = None if args.data is None else read_table(args.data)
    changes = []
    print("seed | ROC AUC with SEX/MARRIAGE/AGE | without | change | min AIR with/without | max EOD with/without")
    for seed in range(args.seeds):
        frame = given if given is not None else synthesize(args.rows, 2005 + seed)
        train, test = split(frame, uci().labels(frame), test_ratio=0.25, seed=42 + seed)
        with_, air_with, eod_with = _auc_and_fairness(legacy_uci(), train, test)
        without, air_without, eod_without = _auc_and_fairness(uci(), train, test)
        changes.append(without - with_)
        print(
            f"{seed} | {with_:.4f} | {without:.4f} | {without - with_:+.4f} | {air_with:.3f}/{air_without:.3f}"
            f" | {eod_with:.3f}/{eod_without:.3f}"
        )
    print(f"median change of ROC AUC without the protected columns: {statistics.median(changes):+.4f}")


if __name__ == "__main__":
    main()
