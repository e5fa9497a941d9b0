"""Scoring for the hot path: one-row requests through LightGBM's fast single-row C API.

`Booster.predict` builds a predictor, converts and checks its input and parses its parameters on every
call (≈ 24 µs for one row here). LightGBM's C API keeps that set-up in a "fast config" made once,
after which one row costs ≈ 3 µs, with the same trees and the same arithmetic. Batches and
non-LightGBM models go through `TrainedModel.predict_proba`.

A fast config is not thread-safe: a `RowPredictor` belongs to one event loop (one per worker).
"""

import ctypes
from typing import Any

import numpy as np

from creditops.modelling.estimators import TrainedModel

try:
    from lightgbm.basic import _LIB  # type: ignore[attr-defined]  # the C library LightGBM has loaded already
except ImportError:  # a LightGBM without it: every row goes through Booster.predict
    _LIB = None  # type: ignore[assignment]

_PREDICT_NORMAL = 0  # C_API_PREDICT_NORMAL: probabilities for a binary objective
_FLOAT64 = 1  # C_API_DTYPE_FLOAT64


class RowPredictor:
    """Probability of default per row, as `TrainedModel.predict_proba`, faster for a single row."""

    def __init__(self, model: TrainedModel) -> None:
        self.model = model
        self._fast = _FastRow.for_booster(model.estimator) if model.algorithm == "lightgbm" else None

    @property
    def uses_fast_path(self) -> bool:
        return self._fast is not None

    def __call__(self, features: np.ndarray) -> np.ndarray:
        if self._fast is not None and features.shape[0] == 1:
            return self._fast.predict(features[0])
        return self.model.predict_proba(features)


class _FastRow:
    """A LightGBM fast config with its input and output buffers, freed with the object."""

    def __init__(self, library: Any, config: ctypes.c_void_p, width: int) -> None:
        self._library = library
        self._config = config
        self._row = np.empty(width, dtype=np.float64)
        self._out = np.empty(1, dtype=np.float64)
        self._out_length = ctypes.c_int64()
        self._arguments = (
            config,
            self._row.ctypes.data_as(ctypes.c_void_p),
            ctypes.byref(self._out_length),
            self._out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        )

    @classmethod
    def for_booster(cls, booster: Any) -> "_FastRow | None":
        """The fast path for `booster`; None where this LightGBM build does not offer it."""
        handle = getattr(booster, "_handle", None)
        if handle is None or not hasattr(_LIB, "LGBM_BoosterPredictForMatSingleRowFastInit"):
            return None
        best = getattr(booster, "best_iteration", 0) or 0
        config = ctypes.c_void_p()
        status = _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
            handle,
            ctypes.c_int(_PREDICT_NORMAL),
            ctypes.c_int(0),
            ctypes.c_int(best if best > 0 else -1),
            ctypes.c_int(_FLOAT64),
            ctypes.c_int32(booster.num_feature()),
            ctypes.c_char_p(b"num_threads=1"),
            ctypes.byref(config),
        )
        return cls(_LIB, config, booster.num_feature()) if status == 0 else None

    def predict(self, row: np.ndarray) -> np.ndarray:
        self._row[:] = row
        if self._library.LGBM_BoosterPredictForMatSingleRowFast(*self._arguments) != 0:
            raise RuntimeError(self._library.LGBM_GetLastError().decode())
        return self._out.copy()

    def __del__(self) -> None:
        self._library.LGBM_FastConfigFree(self._config)
