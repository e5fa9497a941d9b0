"""The exploratory notebook runs headless on small synthetic data, so it cannot rot."""

from pathlib import Path

import pytest

from creditops.data.io import write_table

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "eda.ipynb"

pytestmark = pytest.mark.e2e


def test_notebook_is_stored_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def test_notebook_runs_on_small_synthetic_data(tmp_path: Path, small_frame, monkeypatch: pytest.MonkeyPatch) -> None:
    data = write_table(small_frame, tmp_path / "eda.csv")
    monkeypatch.setenv("CREDITOPS_EDA_DATA", str(data))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    last = notebook.cells[-1].outputs[0]["data"]["text/plain"]
    assert "LightGBM (pipeline default)" in last
    first = "".join(output.get("text", "") for output in notebook.cells[1].outputs)
    assert "data checks: all pass" in first
