"""WASM plug-ins: a well-behaved module measures deterministically; every misbehaviour
(import, trap, endless loop, 4 GiB, junk, out-of-bounds answer) fails closed with a reason."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
import wasmtime

from paygod.canonical import canonicalize
from paygod.decisions.wasm import Limits, Plugin, PluginFailed

PLUGINS = Path(__file__).parent / "plugins"
DOC = {"input": {"payment": {"amount_minor": 1234}}, "measure": {"velocity_1h": 3}}


def plugin(name: str, **limits: float) -> Plugin:
    wasm = bytes(wasmtime.wat2wasm((PLUGINS / f"{name}.wat").read_text()))
    return Plugin(wasm, name=name, limits=Limits(**limits))  # type: ignore[arg-type]


def test_a_plugin_measures_and_replays_to_the_same_bytes() -> None:
    length = plugin("length")
    first = length.call(DOC)
    assert orjson.loads(first) == {"value": len(canonicalize(DOC))}
    assert all(length.call(DOC) == first for _ in range(20))
    assert length.measure(DOC) == len(canonicalize(DOC))


def test_a_module_that_imports_anything_is_refused_at_load() -> None:
    with pytest.raises(ValueError, match=r"may import nothing; it imports \['env.now'\]"):
        plugin("imports")


def test_a_module_without_the_abi_is_refused_at_load() -> None:
    wasm = bytes(wasmtime.wat2wasm('(module (func (export "measure")))'))
    with pytest.raises(ValueError, match="must export 'memory'"):
        Plugin(wasm, name="bare")


@pytest.mark.parametrize(
    ("name", "limits", "reason"),
    [
        ("forever", {}, "ran out of fuel"),
        ("forever", {"fuel": 10**12, "timeout_ms": 20.0}, "wall-clock limit"),
        ("greedy", {}, "trapped"),
        ("huge", {}, "exceeded its memory limit"),
        ("trap", {}, "trapped: "),
        ("outside", {}, "outside its memory"),
    ],
)
def test_a_misbehaving_plugin_fails_closed(
    name: str, limits: dict[str, float], reason: str
) -> None:
    started = time.monotonic()
    with pytest.raises(PluginFailed, match=reason):
        plugin(name, **limits).call(DOC)
    assert time.monotonic() - started < 2.0


def test_junk_is_no_measurement() -> None:
    with pytest.raises(PluginFailed, match="not JSON"):
        plugin("junk").measure(DOC)


def test_state_never_survives_a_call() -> None:
    """`alloc` bumps a global; a fresh instance per call keeps the answer the same."""
    length = plugin("length")
    assert length.call(DOC) == length.call(DOC)
