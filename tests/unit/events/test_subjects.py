from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paygod.events.subjects import (
    escape_token,
    filter_subject,
    stream_for,
    stream_prefix,
    stream_subjects,
    subject_for,
    unescape_token,
)


def test_subjects_and_streams_follow_tenant_and_family() -> None:
    assert subject_for("acme", "payment.settled") == "paygod.acme.payment.settled"
    assert stream_for("payment.settled") == "PAYGOD_PAYMENT"
    assert stream_for("credits.low_balance", "tenant-x") == "TENANT_X_CREDITS"
    assert stream_subjects("payment") == ["paygod.*.payment.>"]
    assert filter_subject(None, "payment") == "paygod.*.payment.>"
    assert filter_subject("acme", "payment", "payment.settled") == "paygod.acme.payment.settled"


@pytest.mark.parametrize(
    ("tenant", "token"),
    [("*", "~2A"), ("a.b", "a~2Eb"), ("x y", "x~20y"), ("", "~"), (">", "~3E"), ("é", "~C3~A9")],
)
def test_tenant_ids_become_one_safe_token(tenant: str, token: str) -> None:
    assert escape_token(tenant) == token
    assert unescape_token(token) == tenant


@given(st.text(max_size=40))
def test_escaping_is_reversible_and_never_breaks_the_subject(tenant: str) -> None:
    token = escape_token(tenant)
    assert unescape_token(token) == tenant
    assert not any(ch in token for ch in ".*> \t\r\n")
    assert subject_for(tenant, "decision.finalized").count(".") == 3


@pytest.mark.parametrize(
    "bad", ["", "payment", "Payment.Settled", "payment..x", "payment.*", "a.>"]
)
def test_event_types_that_would_corrupt_the_subject_space_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="dotted lower-case"):
        subject_for("acme", bad)


@pytest.mark.parametrize("bad", ["", "Paygod", "a.b", "a" * 33, "-x"])
def test_namespaces_are_single_safe_tokens(bad: str) -> None:
    with pytest.raises(ValueError, match="namespace"):
        stream_prefix(bad)
