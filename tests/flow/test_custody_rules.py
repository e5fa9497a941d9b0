"""The custody rules on their own: the ledger's entries, what may serve, who decides."""

import json
from pathlib import Path

import pytest

from creditops.context import Context, from_process
from creditops.errors import CreditopsError
from creditops.flow import custody
from creditops.flow.custody import LedgerEntry
from creditops.tracking import integrity, names
from creditops.tracking.registry import Registry, VersionInfo

FILES = {"MLmodel": "a" * 64, "model.lgb": "b" * 64}
DIGEST = integrity.combined(FILES)


@pytest.fixture
def prod(project: Path) -> Context:
    return from_process("prod")


def _version(number: str = "1", **tags: str) -> VersionInfo:
    return VersionInfo("credit_default_model", number, (), {names.MODEL_FILES: integrity.encode(FILES), **tags})


def _entry(decision: str = custody.APPROVED, digest: str = DIGEST, version: str = "1") -> LedgerEntry:
    at = "2026-12-01T00:00:00+00:00"
    return LedgerEntry(decision, "credit_default_model", version, "prod", digest, "ana", at, "ana", "local", at, "ok")


def test_an_approved_version_with_its_approved_files_may_serve(prod: Context) -> None:
    assert custody.serving_refusal(prod, _version(), {"1": _entry()}) is None
    assert custody.serving_refusal(prod, _version(), {"1": _entry(custody.PROMOTED)}) is None


@pytest.mark.parametrize(
    ("entries", "tags", "said"),
    [
        ({}, {}, "has no approval for prod in the approvals ledger"),
        ({"1": _entry(custody.WITHDRAWN)}, {}, "was rolled back in prod"),
        ({"1": _entry(digest="c" * 64)}, {}, "does not have the model files ana approved"),
        ({"1": _entry()}, {names.MODEL_FILES: integrity.encode({"model.lgb": "d" * 64})}, "does not have the model"),
    ],
)
def test_what_may_not_serve_in_prod_says_why(
    prod: Context, entries: dict[str, LedgerEntry], tags: dict[str, str], said: str
) -> None:
    refused = custody.serving_refusal(prod, _version(**tags), entries)
    assert refused is not None
    assert said in refused


def test_approval_tags_alone_approve_nothing(prod: Context) -> None:
    forged = _version(**{names.APPROVAL_BY: "ana", names.APPROVAL_ENV: "prod", names.APPROVAL_AT: "2999"})
    assert "no approval" in (custody.serving_refusal(prod, forged, {}) or "")


def test_without_approval_required_only_a_withdrawal_stops_a_version(project: Path) -> None:
    dev = from_process("dev")
    assert custody.serving_refusal(dev, _version(), {}) is None
    rolled = _version(**{names.rollback_tag("dev", "at"): "2026-12-02", names.rollback_tag("dev", "by"): "bo"})
    assert "rolled back in dev on 2026-12-02 by bo" in (custody.serving_refusal(dev, rolled, {}) or "")
    assert custody.withdrawn_in(rolled) == ["dev"]


def test_the_ledger_keeps_the_latest_decision_and_skips_what_is_not_an_entry(prod: Context) -> None:
    registry = Registry(prod.store_uri)
    custody.write(registry, _entry())
    custody.write(registry, _entry(custody.WITHDRAWN))
    custody.write(registry, _entry(version="2"))
    key = custody.ledger_key("prod", "credit_default_model", "3")
    registry.set_model_tag(custody.LEDGER_MODEL, key, "not json", "test")
    moved = json.dumps({**_entry(version="4").__dict__})  # an entry filed under another version's key
    registry.set_model_tag(custody.LEDGER_MODEL, custody.ledger_key("prod", "credit_default_model", "5"), moved, "t")
    found = custody.ledger(registry, "prod", "credit_default_model")
    assert {version: entry.decision for version, entry in found.items()} == {"1": "withdrawn", "2": "approved"}
    assert custody.ledger(registry, "staging", "credit_default_model") == {}


def test_a_decision_overwritten_at_once_is_refused_not_lost(prod: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry(prod.store_uri)
    write = custody.write

    def raced(registry: Registry, entry: LedgerEntry) -> None:
        write(registry, entry)
        write(registry, _entry(custody.WITHDRAWN))  # a rollback on another machine, just after

    monkeypatch.setattr(custody, "write", raced)
    with pytest.raises(CreditopsError, match=r"overwritten at once by a concurrent decision \(withdrawn by ana"):
        custody.record(registry, prod, _version(), custody.APPROVED, ("ana", "local name"), "ok", "2026-12-03")


def test_an_approval_binds_the_files_and_later_decisions_keep_who_approved(prod: Context) -> None:
    registry = Registry(prod.store_uri)
    approved = custody.record(registry, prod, _version(), custody.APPROVED, ("ana", "local name"), "ok", "t1")
    promoted = custody.record(registry, prod, _version(), custody.PROMOTED, ("ci", "local name"), "ok", "t2")
    assert approved is not None
    assert promoted is not None
    assert (approved.model_sha256, promoted.model_sha256) == (DIGEST, DIGEST)
    assert (promoted.approved_by, promoted.approved_at, promoted.by) == ("ana", "t1", "ci")


def test_the_decider_is_the_named_person_on_a_local_store(prod: Context) -> None:
    assert custody.decider(prod, "ana", "rollback") == ("ana", custody.LOCAL_NAME)
    with pytest.raises(CreditopsError, match="--by must name who decides"):
        custody.decider(prod, " ", "rollback")
