"""Drift monitoring end to end: a dev endpoint logs real traffic; drifted traffic is caught."""

import json
import re
import time
from pathlib import Path

import pytest

from creditops.cli import main
from creditops.context import from_process
from creditops.data.io import write_table
from creditops.data.synth import synthesize
from creditops.endpoints import state
from creditops.errors import CreditopsError
from creditops.flow import release
from creditops.flow.monitoring import check_drift

pytestmark = pytest.mark.e2e


def _send(endpoint: str, rows: int, seed: int, drift: str = "none") -> None:
    data = write_table(synthesize(rows, seed, drift), Path.cwd() / f"traffic-{seed}.csv")
    assert main(["endpoint", "--env", "dev", "invoke", endpoint, "--data", str(data)]) == 0


def test_drift_appears_after_drifted_traffic(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    release.release(from_process("dev"), say=lambda message: None)
    endpoint = from_process("dev").env.endpoint.name
    # the rollout's smoke and traffic checks are logged too, but are too few to judge
    with pytest.raises(CreditopsError, match=r"only \d+ logged rows on creditops-dev .* need 200"):
        check_drift(from_process("dev"), 3600)

    time.sleep(1.1)
    started = time.time()
    _send(endpoint, 400, seed=11)
    calm = check_drift(from_process("dev"), time.time() - started + 0.5)
    assert not calm.report.drifted, calm.report.drifted_features
    assert calm.report.rows == 400
    key = state.read_key(from_process("dev").endpoints_dir, endpoint)
    logged = "".join(
        path.read_text()
        for path in state.requests(from_process("dev").endpoints_dir, endpoint).rglob("requests-*.jsonl*")
    )
    assert key not in logged

    time.sleep(1.1)
    started = time.time()
    _send(endpoint, 400, seed=12, drift="delinquency")
    stormy = check_drift(from_process("dev"), time.time() - started + 0.5)
    assert "PAY_0" in stormy.report.drifted_features
    assert stormy.report.rate_shift > 0
    assert "<img" in stormy.page.read_text()

    code = main(["monitor", "drift", "--env", "dev", "--since", f"{int(time.time() - started) + 1}s"])
    assert code == 4
    assert "drift page:" in capsys.readouterr().out
    code = main(["monitor", "drift", "--since", f"{int(time.time() - started) + 1}s", "--output", "json"])  # dev
    assert code == 4
    checked = json.loads(capsys.readouterr().out)
    assert checked["drifted"] is True
    assert {item["feature"] for item in checked["features"]} >= {"PAY_0", "AGE"}
    assert main(["gate", "pending", "--output", "json"]) == 1  # nothing awaits approval in dev
    assert main(["env", "show", "dev", "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["endpoint"]["name"] == "creditops-dev"

    assert main(["status", "--output", "json"]) == 0
    dev, staging, _ = json.loads(capsys.readouterr().out)
    assert (dev["environment"], dev["champion"], dev["awaiting_approval"]) == ("dev", "1", None)
    assert dev["endpoint"]["healthy"] is True
    assert dev["endpoint"]["traffic"] == {"blue": 100}
    assert dev["endpoint"]["deployments"] == {"blue": "1"}
    assert dev["drift"]["drifted"] is True
    assert "PAY_0" in dev["drift"]["drifted_features"]
    assert staging["problems"] == ["no store yet: nothing was run in this environment"]
    assert not (project / ".creditops" / "envs" / "staging" / "mlflow.db").exists()
    assert main(["status", "--env", "dev"]) == 0
    assert "DRIFT at" in capsys.readouterr().out

    card = from_process("dev").reports_dir / "credit_default_model-v1.html"  # dev works in the home folder
    assert "<p>promoted in dev" in card.read_text()  # written again when the gate decided
    card.unlink()
    assert main(["report", "models:/credit_default_model/1", "--env", "dev"]) == 0
    assert "<p>promoted in dev" in card.read_text()


def _since(started: float) -> str:
    return f"{int(time.time() - started) + 1}s"


def test_monitor_history_follows_the_real_drift_checks(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given no check yet, then a calm check and two drifted ones made by the real command
    release.release(from_process("dev"), say=lambda message: None)
    endpoint = from_process("dev").env.endpoint.name
    assert main(["monitor", "history", "--env", "dev"]) == 0
    assert capsys.readouterr().out == "no drift checks kept for dev yet; run 'creditops monitor drift --env dev'\n"
    time.sleep(1.1)
    started = time.time()
    _send(endpoint, 400, seed=11)
    assert main(["monitor", "drift", "--env", "dev", "--since", _since(started)]) == 0
    assert "drift over time: creditops monitor history --env dev" in capsys.readouterr().out
    time.sleep(1.1)
    started = time.time()
    _send(endpoint, 400, seed=12, drift="delinquency")
    assert main(["monitor", "drift", "--env", "dev", "--since", _since(started)]) == 4
    assert "drift page:" in capsys.readouterr().out
    assert main(["monitor", "drift", "--env", "dev", "--since", _since(started), "--output", "json"]) == 4
    checked = json.loads(capsys.readouterr().out)
    assert checked["thresholds"]["psi"] == 0.25
    pay_0 = next(item for item in checked["features"] if item["feature"] == "PAY_0")
    assert pay_0["drifted"] is True
    assert pay_0["psi"] > 0.25

    # When the history is asked for
    assert main(["monitor", "history", "--env", "dev"]) == 0
    out = capsys.readouterr().out

    # Then the table lists the three checks, newest last, and the page is written
    page = from_process("dev").monitoring_dir / "drift-history-dev.html"
    assert "drift history of dev: 3 checks" in out
    assert f"drift history page: {page}" in out
    text = page.read_text()
    assert text.count("<img") == 1 + len(checked["features"])
    assert re.search(r"<tr><td>PAY_0</td><td>[0-9.]+</td><td class='drift'", text)
    assert main(["monitor", "history", "--env", "dev", "--output", "json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["page"] == str(page)
    assert [check["drifted"] for check in found["checks"]] == [False, True, True]
    assert [check["model_version"] for check in found["checks"]] == ["1", "1", "1"]
    assert found["checks"][-1]["at"] == checked["at"]
    assert found["checks"][-1]["top_psi"]["psi"] == max(item["psi"] for item in checked["features"])
    assert found["notes"] == []
