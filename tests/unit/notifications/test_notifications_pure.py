"""Patterns, Standard Webhooks signatures, sandboxed templates, subscription targets."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paygod.notifications.channels.webhook import new_secret, signature, verify
from paygod.notifications.model import OWN_EVENT, Channel, matches, pattern_problem
from paygod.notifications.targets import target_errors
from paygod.notifications.templates import TemplateProblem, Templates

EVENT = {
    "event_id": "e1",
    "event_type": "credit.approved",
    "aggregate_type": "loan",
    "aggregate_id": "l1",
    "tenant_id": "t",
    "occurred_at": "2026-03-02T09:00:00Z",
    "payload": {"amount_minor": 5000},
}


def test_standard_webhooks_reference_vector() -> None:
    # The test vector of the Standard Webhooks reference libraries (standard-webhooks repo).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    sig = signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": f"v1,bogus {sig}",
    }
    assert verify(secret, headers, body)
    assert not verify(new_secret(), headers, body)
    assert not verify(secret, {**headers, "webhook-timestamp": "1614265331"}, body)


@pytest.mark.parametrize(
    ("pattern", "event_type", "expected"),
    [
        ("credit.*", "credit.approved", True),
        ("credit.*", "credit.loan.defaulted", True),
        ("credit.*", "creditx.approved", False),
        ("credit.*", "credit", False),
        ("payment.settled", "payment.settled", True),
        ("payment.settled", "payment.settled.late", False),
        ("*", "anything.at_all", True),
        ("*", OWN_EVENT, False),  # deliveries are never offered again
    ],
)
def test_patterns(pattern: str, event_type: str, expected: bool) -> None:
    assert pattern_problem(pattern) is None
    assert matches(pattern, event_type) is expected


@given(st.text(max_size=40))
def test_a_valid_pattern_is_dotted_lowercase(text: str) -> None:
    if pattern_problem(text) is None:
        assert text == "*" or all(part and part == part.lower() for part in text.split("."))


def test_templates_fall_back_by_prefix_and_are_sandboxed(tmp_path: Path) -> None:
    (tmp_path / "credit.*.email.j2").write_text(
        "Loan {{ event.aggregate_id }} approved\nAmount: {{ event.payload.amount_minor }}\n"
    )
    (tmp_path / "credit.hostile.email.j2").write_text(
        "x\n{{ event.__class__.__mro__[1].__subclasses__() }}"
    )
    templates = Templates(tmp_path)
    mail = templates.render(Channel.EMAIL, EVENT)
    assert mail.subject == "Loan l1 approved" and "Amount: 5000" in mail.body
    inapp = templates.render(Channel.INAPP, EVENT)
    assert inapp.subject == "credit.approved"
    with pytest.raises(TemplateProblem):
        templates.render(Channel.EMAIL, {**EVENT, "event_type": "credit.hostile"})


@pytest.mark.parametrize(
    ("channel", "target", "dev", "ok"),
    [
        (Channel.WEBHOOK, "https://hooks.example.com/x", False, True),
        (Channel.WEBHOOK, "http://hooks.example.com/x", False, False),
        (Channel.WEBHOOK, "http://127.0.0.1:9000/x", False, False),
        (Channel.WEBHOOK, "http://127.0.0.1:9000/x", True, True),
        (Channel.WEBHOOK, "http://hooks.example.com/x", True, False),
        (Channel.WEBHOOK, "https://169.254.169.254/latest", False, False),
        (Channel.WEBHOOK, "https://user:pw@hooks.example.com/", False, False),
        (Channel.EMAIL, "ops@bank.example", False, True),
        (Channel.EMAIL, "ops@bank.example\r\nBcc: x@y.z", False, False),
        (Channel.INAPP, "officer-1", False, True),
    ],
)
def test_targets(channel: Channel, target: str, dev: bool, ok: bool) -> None:
    errors = target_errors(channel, target, allow_private=False, dev_mode=dev)
    assert (not errors) is ok, errors
    assert all(e.pointer == "/target" for e in errors)
