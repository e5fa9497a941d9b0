"""Choosing the approver from the CI system's answers: pure functions, no network."""

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditops.errors import CreditopsError
from creditops.flow.approvals import (
    Approval,
    azure_devops_approval_ids,
    azure_devops_approver,
    github_approver,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "approvals"


def recorded(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_github_picks_the_approval_of_the_named_environment() -> None:
    found = github_approver(recorded("github_approved.json"), "prod", "42")

    assert (found.approver, found.source, found.at) == ("risk-officer", "github", None)
    assert found.comment.startswith("Gate evidence read")
    assert github_approver(recorded("github_approved.json"), "staging", "42").approver == "octocat"


def test_github_without_a_review_of_the_environment_names_it_and_the_run() -> None:
    with pytest.raises(CreditopsError, match="nobody approved environment dev in run 42"):
        github_approver(recorded("github_approved.json"), "dev", "42")
    with pytest.raises(CreditopsError, match="nobody approved environment prod in run 7"):
        github_approver([], "prod", "7")


def test_github_a_rejection_newer_than_the_approval_is_refused() -> None:
    with pytest.raises(CreditopsError, match="risk-officer rejected environment prod in run 42"):
        github_approver(recorded("github_rejected_after.json"), "prod", "42")


def test_github_the_newest_approval_wins_and_pending_comments_do_not_count() -> None:
    reviews = recorded("github_rejected_after.json")
    reviews.reverse()  # now: rejected, then approved
    pending = copy.deepcopy(reviews[0])
    pending.update(state="pending", user={"login": "commenter"})
    reviews.append(pending)

    assert github_approver(reviews, "prod", "42").approver == "octocat"


@pytest.mark.parametrize(
    "answer",
    [{"message": "Not Found"}, "text", None, [{"state": "approved", "environments": [{"name": "prod"}]}]],
)
def test_github_malformed_answers_are_one_line_errors(answer: object) -> None:
    with pytest.raises(CreditopsError, match="malformed answer"):
        github_approver(answer, "prod", "42")


def test_azure_devops_reads_the_approval_ids_from_the_timeline() -> None:
    assert azure_devops_approval_ids(recorded("ado_timeline.json")) == ["ee14f612-6838-43c0-b445-db238ef14153"]
    with pytest.raises(CreditopsError, match="malformed answer"):
        azure_devops_approval_ids([])


def test_azure_devops_picks_the_unique_name_of_the_actual_approver() -> None:
    found = azure_devops_approver(recorded("ado_approvals.json"), "1234")

    assert found.as_dict() == {
        "approver": "jane.doe@fabrikam.com",
        "comment": "Evidence reviewed",
        "at": "2024-05-02T09:40:10.8Z",
        "source": "azure-devops",
    }


def test_azure_devops_approvals_of_another_build_do_not_count() -> None:
    with pytest.raises(CreditopsError, match="nobody approved the deployment of build 999"):
        azure_devops_approver(recorded("ado_approvals.json"), "999")


def test_azure_devops_a_rejected_step_newer_than_the_approval_is_refused() -> None:
    answer = recorded("ado_approvals.json")
    steps = answer["value"][0]["steps"]
    rejected = copy.deepcopy(steps[0])
    rejected.update(status="rejected", lastModifiedOn="2024-05-02T10:00:00Z")
    rejected["actualApprover"]["uniqueName"] = "sam@fabrikam.com"
    steps.append(rejected)

    with pytest.raises(CreditopsError, match=r"sam@fabrikam\.com rejected the deployment of build 1234"):
        azure_devops_approver(answer, "1234")
    rejected["lastModifiedOn"] = "2024-05-02T08:00:00Z"  # rejected before: the approval stands
    assert azure_devops_approver(answer, "1234").approver == "jane.doe@fabrikam.com"


def test_azure_devops_falls_back_to_the_display_name() -> None:
    answer = recorded("ado_approvals.json")
    del answer["value"][0]["steps"][0]["actualApprover"]["uniqueName"]

    assert azure_devops_approver(answer, "1234").approver == "Jane Doe"


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
keyed = st.fixed_dictionaries(
    {},
    optional={
        "state": st.sampled_from(["approved", "rejected", "pending"]) | json_like,
        "status": st.sampled_from(["approved", "rejected", "pending"]) | json_like,
        "environments": st.lists(st.fixed_dictionaries({"name": st.sampled_from(["prod", "dev"]) | json_like})),
        "user": st.fixed_dictionaries({}, optional={"login": json_like}) | json_like,
        "comment": json_like,
        "pipeline": st.fixed_dictionaries({"owner": st.fixed_dictionaries({"id": st.sampled_from([1234, "1234"])})})
        | json_like,
        "steps": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "status": st.sampled_from(["approved", "rejected"]) | json_like,
                    "actualApprover": st.fixed_dictionaries({}, optional={"uniqueName": json_like}) | json_like,
                    "lastModifiedOn": json_like,
                },
            )
            | json_like,
            max_size=3,
        ),
    },
)
answers = json_like | st.lists(keyed | json_like, max_size=4) | st.fixed_dictionaries({"value": st.lists(keyed)})


CHOOSERS: dict[str, Callable[[object], object]] = {
    "github": lambda answer: github_approver(answer, "prod", "1"),
    "azure-devops": lambda answer: azure_devops_approver(answer, "1234"),
    "timeline": azure_devops_approval_ids,
}


@pytest.mark.parametrize("chooser", sorted(CHOOSERS))
@settings(max_examples=60, deadline=None)
@given(answer=answers)
def test_any_json_gives_an_approval_or_a_one_line_creditops_error(chooser: str, answer: object) -> None:
    failure: CreditopsError | None = None
    found: object = None
    try:
        found = CHOOSERS[chooser](answer)
    except CreditopsError as error:
        failure = error
    if failure is not None:
        assert "\n" not in str(failure)
    else:
        assert isinstance(found, list) or (isinstance(found, Approval) and found.approver)
