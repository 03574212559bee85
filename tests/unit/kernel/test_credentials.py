"""The credential rule: each kind of secret is named, ordinary values pass."""

from __future__ import annotations

import pytest

from paygod.kernel.credentials import credential_kind, credential_problems, password_like
from paygod.kernel.written import written_problems
from tests.credential_samples import PASSWORD_FIELD, SECRETS


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_each_kind_of_secret_is_found_with_its_pointer(kind: str) -> None:
    doc = {"note": "ok", "nested": [{"value": f"see {SECRETS[kind]} here"}]}
    errors = credential_problems(doc, "/input")
    assert [e.pointer for e in errors] == ["/input/nested/0/value"]
    assert "credential" in errors[0].message


def test_the_written_rule_refuses_secrets_once_and_exempts_declared_credentials() -> None:
    doc = {"secret": SECRETS["jwt"], "url": "https://example.test/hook"}
    errors = written_problems(doc)
    assert [e.pointer for e in errors] == ["/secret"]
    assert written_problems(doc, credentials=("/secret",)) == []


def test_password_like_members_are_refused_whatever_the_value() -> None:
    name, value = PASSWORD_FIELD
    assert [e.pointer for e in credential_problems({"cfg": {name: value}})] == [f"/cfg/{name}"]
    assert credential_problems({name: ""}) == []
    assert password_like("Client-Secret") and password_like("apiKey")
    assert not password_like("secret_ref") and not password_like("key_id")


@pytest.mark.parametrize(
    "value",
    [
        "sha256:" + "ab" * 32,
        "urn:paygod:payee:0f9e8d7c-6b5a-4321-9876-abcdef012345",
        "01JABCDEFGHJKMNPQRSTVWXYZ0",
        "a perfectly ordinary sentence about a payment to a supplier",
        "ACCOUNT-" + "x" * 40,
    ],
)
def test_ordinary_values_pass(value: str) -> None:
    assert credential_kind(value) is None


def test_the_gate_never_hides_what_a_plugin_finds() -> None:
    """The one-pass gate is built from the plugins' own patterns: whatever a plugin finds,
    the gate lets through (it may only save work, never change a verdict)."""
    from paygod.kernel.credentials import _gate, _plugins

    for value in [*SECRETS.values(), "https://user:hunter2hunter@example.test/x"]:
        found = [p for p in _plugins() if any(True for _ in p.analyze_string(value))]
        assert found, value
        assert _gate().search(value) is not None, value


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(doc=_JSON, kind=st.sampled_from(sorted(SECRETS)), path=st.lists(st.sampled_from("abc")))
def test_a_secret_planted_anywhere_is_found_at_its_pointer(
    doc: object, kind: str, path: list[str]
) -> None:
    """Ordinary JSON (hypothesis' text is never a credential) with one secret planted at
    `path`: exactly that pointer is reported."""
    planted: object = {"memo": f"see {SECRETS[kind]}"}
    for token in reversed(path):
        planted = {token: planted}
    document = {"ctx": doc, "x": planted}
    pointer = "/" + "/".join(["x", *path, "memo"])
    found = [e.pointer for e in credential_problems(document)]
    assert found == [pointer] or (
        pointer in found and all(p.startswith("/ctx") for p in found if p != pointer)
    )
