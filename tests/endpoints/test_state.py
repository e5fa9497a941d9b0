"""Endpoint state: names by Azure ML's rule, safe folders, and a state file read whole or refused in one line."""

import json
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from creditops.cli import main
from creditops.endpoints import state
from creditops.errors import CreditopsError


@pytest.mark.parametrize("name", ["-x", "ab", "x" * 33, "a" * 300, "blue_green", "ends-", "9lives", "../up", "é-ok"])
def test_names_follow_azure_ml_rules_with_one_line(tmp_path: Path, name: str) -> None:
    with pytest.raises(CreditopsError, match=r"^invalid endpoint name .*Azure ML's rule\)$") as raised:
        state.folder(tmp_path, name)
    assert "\n" not in str(raised.value)
    assert len(str(raised.value)) < 200


@pytest.mark.parametrize("name", ["abc", "creditops-prod", "a" * 32, "pr-1234"])
def test_valid_names_are_folders_under_the_root(tmp_path: Path, name: str) -> None:
    assert state.folder(tmp_path, name) == tmp_path / name


# A state file that is truncated, hand-edited or of the wrong types is one line naming the file and the way
# out; any JSON at all is an Endpoint or that line, never another exception.

VALID = {
    "name": "abc",
    "port": 8123,
    "auth": "key",
    "pid": 0,
    "workers": 2,
    "generation": 7,
    "deployments": {
        "blue": {
            "name": "blue",
            "model_uri": "models:/m/1",
            "model_version": "1",
            "model_name": "m",
            "threshold": 0.5,
            "model_dir": "/x/blue",
        }
    },
    "traffic": {"blue": 100},
    "mirror": {},
    "history": [{"model_uri": "models:/m/0", "model_version": "0"}],
    "rollout": {
        "pid": 0,
        "deployment": "green",
        "model_uri": "models:/m/2",
        "before": {"blue": 100},
        "replaced": None,
        "started_at": "2026-01-01T00:00:00Z",
        "step": "deploying",
    },
}


def _state_file(root: Path, payload: object, name: str = "abc") -> Path:
    path = root / "endpoints" / name / state.STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    return path


def _refusal(path: Path) -> str:
    with pytest.raises(CreditopsError) as raised:
        state.read_state(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path} is not valid endpoint state (")
    assert message.endswith(f"run 'creditops endpoint delete {path.parent.name}' and create it again")
    return message


def test_a_saved_state_reads_back_equal(tmp_path: Path) -> None:
    endpoint = state.read_state(_state_file(tmp_path, VALID))
    state.save(tmp_path / "endpoints", endpoint)
    assert state.load(tmp_path / "endpoints", "abc") == endpoint
    assert endpoint.deployments["blue"].threshold == 0.5
    assert endpoint.rollout is not None
    assert endpoint.rollout.before == {"blue": 100}


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (json.dumps(VALID).encode()[:57], "Invalid JSON"),
        (b"", "Invalid JSON"),
        (b"\xff\xfe{}", "Invalid JSON"),
        (b"[1, 2]", "the file: Input should be an object"),
        ({**VALID, "traffic": "x"}, "traffic: Input should be an object"),
        ({**VALID, "port": "abc"}, "port: Input should be a valid integer"),
        ({**VALID, "port": True}, "port: Input should be a valid integer"),
        ({**VALID, "port": 0}, "port: Input should be greater than or equal to 1"),
        ({**VALID, "workers": "2"}, "workers: Input should be a valid integer"),
        ({**VALID, "deployments": []}, "deployments: Input should be an object"),
        ({**VALID, "deployments": {"blue": "x"}}, "deployments.blue: Input should be an object"),
        ({**VALID, "traffic": {"blue": 150}}, "traffic.blue: Input should be less than or equal to 100"),
        ({**VALID, "history": [{"model_uri": 1}]}, "history.0.model_uri: Input should be a valid string"),
        ({**VALID, "rollout": {"pid": 1}}, "rollout.deployment: required key is missing"),
        ({k: v for k, v in VALID.items() if k != "port"}, "port: required key is missing"),
        ({**VALID, "colour": "blue"}, "colour: unknown key"),
        ({**VALID, "name": "other"}, "it names endpoint 'other', but lies in the folder of 'abc'"),
        (
            {**VALID, "deployments": {"green": VALID["deployments"]["blue"]}},
            "deployments.green names deployment 'blue'",
        ),
    ],
)
def test_a_state_file_that_is_not_valid_is_one_line_naming_it_and_the_way_out(
    tmp_path: Path, content: object, named: str
) -> None:
    assert named in _refusal(_state_file(tmp_path, content))


def test_the_way_out_names_the_environment_of_the_workspace(tmp_path: Path) -> None:
    path = _state_file(tmp_path / "envs" / "dev", b"{")
    with pytest.raises(CreditopsError, match=r"run 'creditops endpoint --env dev delete abc' and create it again"):
        state.load(path.parents[1], "abc")


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        st.text(max_size=8),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)
nested = {"deployment": ["name", "model_uri", "model_name", "threshold", "model_dir"], "rollout": ["before", "pid"]}
places = st.one_of(
    st.tuples(st.just("top"), st.sampled_from(list(VALID))),
    *(st.tuples(st.just(part), st.sampled_from(keys)) for part, keys in nested.items()),
)


def _mutated(places: list[tuple[str, str]], values: list[object]) -> dict[str, object]:
    """The valid state with some keys, at the top, in its deployment or in its rollout, set to other JSON."""
    mutated = json.loads(json.dumps(VALID))
    targets = {"top": mutated, "deployment": mutated["deployments"]["blue"], "rollout": mutated["rollout"]}
    for (part, key), value in zip(places, values, strict=False):
        targets[part][key] = value
    return mutated


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.dictionaries(st.text(max_size=10), json_values, max_size=8),
        st.builds(_mutated, st.lists(places, max_size=4), st.lists(json_values, max_size=4)),
    )
)
@example(_mutated([("top", "name"), ("rollout", "before")], [None, {"\n": None}]))  # a key that is a line break
def test_any_json_object_is_an_endpoint_or_one_line(payload: dict[str, object]) -> None:
    path = Path("/nowhere/endpoints/abc") / state.STATE_FILE
    outcome: state.Endpoint | CreditopsError
    try:
        outcome = state.parse_state(json.dumps(payload).encode(), path)
    except CreditopsError as error:
        outcome = error
    if isinstance(outcome, CreditopsError):
        assert "\n" not in str(outcome)
        assert str(outcome).startswith(f"{path} is not valid endpoint state (")
        return
    endpoint = outcome
    assert isinstance(endpoint.port, int)
    assert all(isinstance(weight, int) for weight in endpoint.traffic.values())
    assert all(isinstance(deployment, state.Deployment) for deployment in endpoint.deployments.values())


def test_delete_reads_a_bad_state_leniently_for_its_processes_and_port(tmp_path: Path) -> None:
    root = tmp_path / "endpoints"
    _state_file(tmp_path, b'{"pid": 4321, "port": 8123, "traffic": ')
    assert state.recorded_pids(root, "abc") == []
    assert state.recorded_port(root, "abc") is None
    _state_file(tmp_path, {"pid": 4321, "port": 8123, "traffic": "x"})
    (root / "abc" / "run").mkdir()
    (root / "abc" / "run" / "supervisor.json").write_text('{"pid": 4444, "workers": [5]}')
    assert state.recorded_pids(root, "abc") == [4321, 4444]
    assert state.recorded_port(root, "abc") == 8123
    _state_file(tmp_path, {"pid": True, "port": "8123"})
    assert state.recorded_pids(root, "abc") == [4444]
    assert state.recorded_port(root, "abc") is None


@pytest.mark.parametrize(
    "argv",
    [
        ["endpoint", "show", "abc"],
        ["endpoint", "recover", "abc"],
        ["endpoint", "logs", "abc"],
        ["endpoint", "traffic", "abc", "blue=100"],
        ["endpoint", "deploy", "abc", "--deployment", "green", "--model", "models:/m/2"],
        ["endpoint", "get-credentials", "abc"],
    ],
)
def test_commands_on_a_bad_state_file_are_one_line(
    workspace: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    _state_file(workspace, {**VALID, "traffic": "x"})
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1
    assert "state.json is not valid endpoint state (traffic: Input should be an object)" in err


@pytest.mark.parametrize("content", [b'{"name": "abc", "po', b"\x00garbage", json.dumps({"pid": "x"}).encode()])
def test_delete_always_removes_an_endpoint_whatever_its_state_file(
    workspace: Path, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _state_file(workspace, content)
    (path.parent / "logs").mkdir()
    (path.parent / "key").write_text("k")
    assert main(["endpoint", "delete", "abc"]) == 0
    assert "endpoint abc deleted" in capsys.readouterr().out
    assert not path.parent.exists()
    assert main(["endpoint", "delete", "abc"]) == 1
    assert "no endpoint named 'abc'" in capsys.readouterr().err


def test_the_list_names_a_bad_endpoint_and_still_shows_the_others(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _state_file(workspace, b"{")
    _state_file(workspace, {**VALID, "name": "good"}, name="good")
    assert main(["endpoint", "list", "--output", "json"]) == 0
    captured = capsys.readouterr()
    assert [shown["name"] for shown in json.loads(captured.out)] == ["good"]
    assert "note: " in captured.err
    assert "abc/state.json is not valid endpoint state" in captured.err
