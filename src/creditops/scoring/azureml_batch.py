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

from creditops.scoring.batch import checked_chunks, score_chunk
from creditops.serving.model import LoadedModel

_model: LoadedModel | None = None


def init() -> None:
    global _model
    from creditops.tracking.registry import load_model_dir

    root = Path(os.environ["AZUREML_MODEL_DIR"])
    folder = next((path.parent for path in sorted(root.rglob("MLmodel"))), None)
    if folder is None:
        raise FileNotFoundError(f"no MLflow model (MLmodel file) under {root}")
    threshold = float(os.environ.get("CREDITOPS_THRESHOLD", "0.5"))
    _model = LoadedModel(load_model_dir(folder), folder.name, "azureml", str(folder), threshold)


def run(mini_batch: list[str]) -> pd.DataFrame:
    assert _model is not None, "init() runs before run()"  # nosec B101
    frames = []
    for name in mini_batch:
        for chunk in checked_chunks(Path(name), _model.model.contract):
            scored = score_chunk(_model, chunk)  # the step of `creditops score`, on or off a cluster
            frames.append(
                pd.DataFrame(
                    {
                        "file": Path(name).name,
                        "ID": scored.ids,
                        "probability": scored.probability,
                        "class": scored.classes,
                        "reasons": "",
                    }
                )
            )
            if scored.rejected is not None:
                refused = scored.rejected.rename(columns={scored.rejected.columns[0]: "ID"})
                frames.append(refused.assign(file=Path(name).name, probability=np.nan, **{"class": -1}))
    columns = ["file", "ID", "probability", "class", "reasons"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
