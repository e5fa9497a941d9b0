"""Azure ML's batch scoring script: each mini-batch scored with the step of `creditops score`, refused rows
returned with their reasons."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from creditops.data.contract import uci
from creditops.modelling.estimators import TrainedModel
from creditops.scoring import azureml_batch
from creditops.tracking.registry import save_model_dir


def test_a_mini_batch_is_scored_and_its_invalid_rows_kept_with_reasons(
    tmp_path: Path, small_model: TrainedModel, small_frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_model_dir(small_model, tmp_path / "models" / "credit" / "1")
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("CREDITOPS_THRESHOLD", "0.3")
    frame = small_frame.head(100).copy()
    frame.loc[4, "SEX"] = 9
    frame.to_parquet(tmp_path / "a.parquet", index=False)
    azureml_batch.init()
    rows = azureml_batch.run([str(tmp_path / "a.parquet")])
    assert list(rows.columns) == ["file", "ID", "probability", "class", "reasons"]
    scored, refused = rows[rows["class"] >= 0], rows[rows["class"] == -1]
    expected = small_model.predict_proba(uci().feature_matrix(frame.drop(index=[4])))
    np.testing.assert_array_equal(scored["probability"].to_numpy(), expected)
    assert scored["class"].tolist() == (expected >= 0.3).astype(int).tolist()
    assert refused["reasons"].tolist() == ["SEX: 9 is not an allowed code (1..2)"]
