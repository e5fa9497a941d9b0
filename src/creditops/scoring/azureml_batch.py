"""The scoring script of an Azure ML batch deployment: each mini-batch of files scored with the same
reader, per-row checks and model as `creditops score`.

Azure ML calls `init()` once per worker and `run(mini_batch)` with a list of file paths; the rows it
returns are appended to the job's predictions.csv. A refused row is returned with its reasons, not
dropped, so the output accounts for every input row.
"""

import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # loaded by file path (Azure ML's batch driver): the package is two folders up
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import pandas as pd

from creditops.modelling.estimators import TrainedModel
from creditops.scoring.batch import checked_chunks

_model: TrainedModel | None = None
_threshold = 0.5


def init() -> None:
    global _model, _threshold
    from creditops.tracking.registry import load_model_dir

    root = Path(os.environ["AZUREML_MODEL_DIR"])
    folder = next((path.parent for path in sorted(root.rglob("MLmodel"))), None)
    if folder is None:
        raise FileNotFoundError(f"no MLflow model (MLmodel file) under {root}")
    _model = load_model_dir(folder)
    _threshold = float(os.environ.get("CREDITOPS_THRESHOLD", "0.5"))


def run(mini_batch: list[str]) -> pd.DataFrame:
    assert _model is not None, "init() runs before run()"  # nosec B101
    frames = []
    for name in mini_batch:
        for chunk in checked_chunks(Path(name), _model.contract):
            probability = _model.predict_proba(chunk.features) if len(chunk.ids) else np.empty(0)
            frames.append(
                pd.DataFrame(
                    {
                        "file": Path(name).name,
                        "ID": chunk.ids,
                        "probability": probability,
                        "class": (probability >= _threshold).astype(np.int8),
                        "reasons": "",
                    }
                )
            )
            if chunk.rejected is not None:
                refused = chunk.rejected.rename(columns={chunk.rejected.columns[0]: "ID"})
                frames.append(refused.assign(file=Path(name).name, probability=np.nan, **{"class": -1}))
    columns = ["file", "ID", "probability", "class", "reasons"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
