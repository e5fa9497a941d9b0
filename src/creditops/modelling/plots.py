"""Evaluation plots as PNG files, drawn with matplotlib's object API (no pyplot, no display)."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.metrics import roc_curve

from creditops.files import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure() -> tuple["Figure", Any]:
    # Imported on use: only evaluation draws, and the Agg canvas alone avoids loading pyplot.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.2, 3.8), dpi=100)
    FigureCanvasAgg(figure)
    return figure, figure.subplots()


def plot_confusion_matrix(matrix: list[list[int]], threshold: float, path: Path) -> Path:
    """A 2×2 confusion matrix with counts, saved as PNG."""
    figure, axes = _figure()
    draw_confusion_matrix(axes, np.asarray(matrix), threshold)
    return _save(figure, path)


def draw_confusion_matrix(axes: Any, values: np.ndarray, threshold: float) -> None:
    """Draw a 2×2 confusion matrix (rows actual, columns predicted) with its counts on `axes`."""
    axes.imshow(values, cmap="Blues")
    for (row, column), count in np.ndenumerate(values):
        colour = "white" if count > values.max() / 2 else "black"
        axes.text(column, row, f"{count:,}", ha="center", va="center", color=colour)
    axes.set_xticks([0, 1], labels=["no default", "default"])
    axes.set_yticks([0, 1], labels=["no default", "default"])
    axes.set(title=f"Confusion matrix (threshold {threshold:g})", xlabel="predicted", ylabel="actual")


def plot_roc_curve(labels: np.ndarray, probability: np.ndarray, auc: float, path: Path) -> Path:
    """The ROC curve with its AUC, saved as PNG."""
    false_positive, true_positive, _ = roc_curve(labels, probability)
    figure, axes = _figure()
    axes.plot(false_positive, true_positive, label=f"model (AUC {auc:.3f})")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate")
    axes.set_title("ROC curve")
    axes.legend(loc="lower right")
    return _save(figure, path)


def _save(figure: "Figure", path: Path) -> Path:
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    return path
