"""The outcomes page: the verdict first, how the outcomes were joined, the figures and calibration."""

import re
from pathlib import Path

import numpy as np

from creditops.monitoring.outcomes_page import render
from creditops.monitoring.performance import Joined, judge


def _page(tmp_path: Path, min_auc: float) -> str:
    rng = np.random.default_rng(5)
    probability = rng.random(500)
    labels = (rng.random(500) < probability).astype(int)
    report = judge(labels, probability, {"roc_auc": 0.81}, min_auc=min_auc, min_rows=100)
    joined = Joined(list(range(500)), labels, probability, "3", 620, 120, {"2": 7}, "2026-05-01", "2026-06-30")
    path = render(report, joined, "Outcomes on creditops-prod (prod, model version 3)", tmp_path / "page.html")
    return path.read_text()


def test_the_page_says_the_verdict_and_how_the_outcomes_were_joined(tmp_path: Path) -> None:
    page = _page(tmp_path, min_auc=0.7)
    assert "<h1>Outcomes on creditops-prod (prod, model version 3): holding</h1>" in page
    assert "620 outcomes in the file observed 2026-05-01 to 2026-06-30; 500 met a logged prediction" in page
    assert "120 had none in the window; left out, predicted by other versions: version 2: 7" in page
    assert "<td>ROC AUC</td>" in page
    assert "<td>0.8100</td>" in page
    assert page.count("<tr><td>") == 10  # the ten calibration deciles
    assert not re.search(r"(src|href)=['\"]https?://", page)
    (alt,) = re.findall(r"<img alt='([^']*)'", page)
    assert alt.startswith("Calibration by decile of predicted probability; the largest gap: predicted")


def test_a_degraded_model_is_marked(tmp_path: Path) -> None:
    page = _page(tmp_path, min_auc=0.99)
    assert ": below the minimum</h1>" in page
    assert "<tr class='drift'><td>ROC AUC</td>" in page
