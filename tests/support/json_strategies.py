"""Hypothesis strategies for JSON documents, shared by the RFC 8785 property tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def json_values(*, max_size: int = 4, key_size: int = 6, max_leaves: int = 12) -> Any:
    """Any I-JSON value: safe integers, finite floats, text, nested arrays and objects."""
    return st.recursive(
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda children: (
            st.lists(children, max_size=max_size)
            | st.dictionaries(st.text(max_size=key_size), children, max_size=max_size)
        ),
        max_leaves=max_leaves,
    )
