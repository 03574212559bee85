"""Report builders over hand-made sealed entries: what each report finds and flags."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.assurance.model import NAMESPACE, Basis, ContentUuids, Period, content_uuid
from paygod.assurance.reports import gdpr, pci, sox
from paygod.ledger.model import Entry, SignedTreeHead

AT = datetime(2026, 1, 1, 12, tzinfo=UTC)
BASIS = Basis(
    "default",
    Period(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)),
    SignedTreeHead(9, "ab" * 32, "2026-01-02T00:00:00Z", "k1", "sig"),
)


def entry(seq: int, kind: str, payload: dict[str, Any], tenant: str = "default") -> Entry:
    return Entry(
        seq, f"e{seq}", kind, tenant, f"s{seq}", payload, AT, None, None, None, "0" * 64, "1" * 64
    )


def _section(report: dict[str, Any], title: str) -> list[list[Any]]:
    return next(s["rows"] for s in report["sections"] if s["title"].startswith(title))


def test_sox_flags_self_approval_and_one_actor_activation() -> None:
    approved = {"approvals": [{"by": "human:bob", "verdict": "approved", "at": "t"}]}
    entries = [
        entry(
            1,
            "payment",
            {
                "transition": "approved",
                "payment": {"payment_id": "p1", "requested_by": "agent:a", **approved},
            },
        ),
        entry(
            2,
            "payment",
            {
                "transition": "approved",
                "payment": {"payment_id": "p2", "requested_by": "human:bob", **approved},
            },
        ),
        entry(
            3,
            "policy.stage",
            {"pack": "gate", "digest": "d", "stage": "shadow", "actor": "ann"},
            "*",
        ),
        entry(
            4,
            "policy.stage",
            {"pack": "gate", "digest": "d", "stage": "active", "actor": "ann"},
            "*",
        ),
        entry(
            5, "audit.access", {"principal_id": "u1", "action": "identity:manage", "target": "/x"}
        ),
        entry(6, "audit.access", {"principal_id": "u1", "action": "ledger:read", "target": "/y"}),
    ]
    report = sox(BASIS, entries)
    assert report["tree_head"]["root_hash"] == "ab" * 32
    assert len(_section(report, "Maker-checker")) == 2
    exceptions = _section(report, "Segregation-of-duties exceptions")
    assert [row[0] for row in exceptions] == [2, 4]
    assert [row[0] for row in _section(report, "Privileged access")] == [5]


def test_pci_finds_a_pan_and_the_cardholder_reads() -> None:
    entries = [
        entry(1, "decision", {"note": "paid with 4111-1111-1111-1111", "h": "sha256:" + "4" * 64}),
        entry(
            2,
            "audit.access",
            {"principal_id": "u2", "action": "payments:read", "target": "/v1/payments/p1"},
        ),
    ]
    report = pci(BASIS, entries)
    assert _section(report, "Card numbers") == [
        [1, "decision", "/payload/note", "411111******1111"]
    ]
    assert [row[1] for row in _section(report, "Who read cardholder")] == ["u2"]
    assert report["summary"]["signing_key_id"] == "k1"


def test_gdpr_counts_consents_and_picks_up_vault_requests() -> None:
    entries = [
        entry(1, "consent", {"subject": "urn:s:1", "purpose": "marketing", "granted": True}),
        entry(2, "consent", {"subject": "urn:s:1", "purpose": "marketing", "granted": False}),
        entry(3, "gdpr.erasure", {"status": "erased"}),
        entry(4, "gdpr.access", {"status": "exported"}),
    ]
    report = gdpr(BASIS, entries)
    assert _section(report, "Records of processing") == [["marketing", 1, 1]]
    assert report["summary"] == {
        "consents_given": 1,
        "consents_withdrawn": 1,
        "erasure_requests": 1,
        "access_requests": 1,
    }
    assert [r[1] for r in _section(report, "Access and erasure")] == ["erasure", "access"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text() | st.integers(), max_size=4))
def test_content_uuids_are_rfc_9562_version_5(parts: list[object]) -> None:
    expected = str(uuid.uuid5(NAMESPACE, "\x1f".join(str(p) for p in ["observation", *parts])))
    assert content_uuid("observation", *parts) == expected
    if parts:  # ContentUuids joins the prefix and the parts: it takes one part at least
        assert ContentUuids("observation")(*parts) == expected
