"""Tenant plug-ins in a WebAssembly sandbox (wasmtime): a custom measurement as policy.

The ABI (docs/packs.md, "WASM plug-ins") is fixed and small:

- the module imports NOTHING (no WASI, no host function: a module with any import is refused
  at load) and exports `memory`, `alloc(len: i32) -> i32` and `measure(ptr: i32, len: i32)
  -> i64`;
- the host calls `alloc(n)`, writes the request there (the RFC 8785 canonical JSON of
  `{"input": ..., "measure": ...}`, UTF-8), calls `measure(ptr, n)` and reads the answer
  at `result >> 32` for `result & 0xffffffff` bytes: a JSON object `{"value": <number>}`.

Every call runs in a fresh instance (its own memory and globals: nothing survives a call, so
a replay with the same request gives the same bytes; a thread's store serves `RECYCLE`
instances, then is dropped with their memories, and at once after any failure), with a fuel
budget (instructions), a memory limit (the store's limiter: growing past it fails) and a
wall-clock limit (epoch interruption, ticked by one daemon thread). NaNs are canonicalised,
threads and relaxed SIMD are off, so the result is deterministic. Whatever goes wrong (a
trap, fuel or time running out, an answer out of bounds or not the JSON asked for) raises
`PluginFailed` with the reason, and the pack's verdict is `error`: a plug-in fails closed.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping
from ctypes import POINTER, addressof, byref, c_char, c_size_t, memmove, string_at
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import wasmtime

try:
    from wasmtime import _ffi
    from wasmtime._func import enter_wasm as _enter_wasm
except ImportError:  # pragma: no cover
    _ffi = None  # type: ignore[assignment]

from paygod.canonical import canonicalize
from paygod.decisions.pack_measures import MeasurementFailed

_MEMORY = _ffi.WASMTIME_EXTERN_MEMORY.value if _ffi is not None else 3
_FUNC = _ffi.WASMTIME_EXTERN_FUNC.value if _ffi is not None else 0
_NO_IMPORTS = (_ffi.wasmtime_extern_t * 0)() if _ffi is not None else None

TICK_SECONDS = 0.005
DEFAULT_FUEL = 5_000_000
DEFAULT_MEMORY_BYTES = 16 * 1024 * 1024
DEFAULT_TIMEOUT_MS = 50.0
MAX_OUTPUT_BYTES = 64 * 1024
MAX_MODULE_BYTES = 4 * 1024 * 1024
# Fresh instances per thread-local store before the store (and their memories) is dropped.
RECYCLE = 8


class PluginFailed(MeasurementFailed):
    """A plug-in call that did not give a well-formed answer in its limits."""


def _engine() -> wasmtime.Engine:
    config = wasmtime.Config()
    config.consume_fuel = True
    config.epoch_interruption = True
    config.cranelift_nan_canonicalization = True
    config.wasm_threads = False
    config.wasm_relaxed_simd = False
    config.wasm_relaxed_simd_deterministic = True
    config.max_wasm_stack = 512 * 1024
    return wasmtime.Engine(config)


ENGINE = _engine()
_ticker: threading.Thread | None = None
_ticker_lock = threading.Lock()


def _tick() -> None:
    while True:
        time.sleep(TICK_SECONDS)
        ENGINE.increment_epoch()


def _start_ticker() -> None:
    """One daemon thread moves the engine's epoch on; a call's deadline counts its ticks."""
    global _ticker
    with _ticker_lock:
        if _ticker is None:
            _ticker = threading.Thread(target=_tick, name="paygod-wasm-epoch", daemon=True)
            _ticker.start()


@dataclass(frozen=True)
class Limits:
    fuel: int = DEFAULT_FUEL
    memory_bytes: int = DEFAULT_MEMORY_BYTES
    timeout_ms: float = DEFAULT_TIMEOUT_MS


class Plugin:
    """One compiled module; `call(document)` runs it once in a fresh sandbox."""

    def __init__(self, wasm: bytes, *, name: str, limits: Limits | None = None) -> None:
        self.name = name
        self.digest = "sha256:" + hashlib.sha256(wasm).hexdigest()
        self.limits = limits or Limits()
        try:
            self.module = wasmtime.Module(ENGINE, wasm)
        except wasmtime.WasmtimeError as exc:
            raise ValueError(
                f"{name}: not a valid WebAssembly module: {_first_line(exc)}"
            ) from None
        imports = [f"{i.module}.{i.name}" for i in self.module.imports]
        if imports:
            raise ValueError(f"{name}: a plug-in may import nothing; it imports {imports}")
        exports = {e.name: e.type for e in self.module.exports}
        for needed, kind in (
            ("memory", wasmtime.MemoryType),
            ("alloc", wasmtime.FuncType),
            ("measure", wasmtime.FuncType),
        ):
            if not isinstance(exports.get(needed), kind):
                raise ValueError(f"{name}: must export {needed!r} ({kind.__name__})")
        self._ticks = max(1, int(self.limits.timeout_ms / 1000 / TICK_SECONDS) + 1)
        # (export index, extern kind) of memory, alloc and measure, in the module's order.
        names = [e.name for e in self.module.exports]
        self._exported = tuple(
            (names.index(name), kind)
            for name, kind in (("memory", _MEMORY), ("alloc", _FUNC), ("measure", _FUNC))
        )
        self._local = threading.local()
        _start_ticker()

    def _store(self) -> wasmtime.Store:
        """This thread's store, good for `RECYCLE` fresh instances: making a store costs
        more than the call, and each call still gets a new instance (new memory, new
        globals: nothing of one call is seen by the next)."""
        local = self._local
        store: wasmtime.Store | None = getattr(local, "store", None)
        if store is None or local.used >= RECYCLE:
            if store is not None:
                store.close()
            store = wasmtime.Store(ENGINE)
            store.set_limits(
                memory_size=self.limits.memory_bytes,
                instances=RECYCLE,
                tables=RECYCLE,
                memories=RECYCLE,
            )
            local.store, local.used = store, 0
        local.used += 1
        return store

    def _drop_store(self) -> None:
        store = getattr(self._local, "store", None)
        if store is not None:
            store.close()
        self._local.store = None

    def call(self, document: Mapping[str, Any]) -> bytes:
        """The module's answer to `document`, as the exact bytes it wrote."""
        request = canonicalize(dict(document))
        store = self._store()
        store.set_fuel(self.limits.fuel)
        store.set_epoch_deadline(self._ticks)
        try:
            memory, alloc, measure = self._instantiate(store)
            pointer = _call(store, alloc, len(request))
            size = _memory_size(store, memory)
            if not isinstance(pointer, int) or not 0 <= pointer <= size - len(request):
                raise PluginFailed(f"{self.name}: alloc returned {pointer!r}, out of memory")
            memmove(_memory_base(store, memory) + pointer, request, len(request))
            packed = _call(store, measure, pointer, len(request))
            if not isinstance(packed, int):
                raise PluginFailed(f"{self.name}: measure returned {packed!r}, not an i64")
            packed &= 0xFFFF_FFFF_FFFF_FFFF
            out_ptr, out_len = packed >> 32, packed & 0xFFFF_FFFF
            size = _memory_size(store, memory)  # the module may have grown it
            if out_len > MAX_OUTPUT_BYTES or out_ptr + out_len > size:
                raise PluginFailed(
                    f"{self.name}: answer at {out_ptr} of {out_len} bytes is outside its memory"
                )
            return string_at(_memory_base(store, memory) + out_ptr, out_len)
        except wasmtime.Trap as exc:
            self._drop_store()
            raise PluginFailed(f"{self.name}: {_trap_reason(exc)}") from None
        except wasmtime.WasmtimeError as exc:
            self._drop_store()
            raise PluginFailed(f"{self.name}: {_trap_reason(exc)}") from None

    def _instantiate(self, store: wasmtime.Store) -> tuple[Any, Any, Any]:
        """A fresh instance's memory, `alloc` and `measure`. Through wasmtime 50's C API:
        `Instance` and its `exports` wrap every export of the module in Python objects on
        each call (about a third of a call); the three needed are read by their index,
        their kinds checked at load and again here."""
        if _ffi is None:  # pragma: no cover - another wasmtime layout: the checked path
            exports = wasmtime.Instance(store, self.module, []).exports(store)
            return exports["memory"], exports["alloc"], exports["measure"]
        instance = _ffi.wasmtime_instance_t()
        with _enter_wasm(store) as trap:
            error = _ffi.wasmtime_instance_new(
                store._context(), self.module.ptr(), _NO_IMPORTS, 0, byref(instance), trap
            )
            if error:
                raise wasmtime.WasmtimeError._from_ptr(error)
        found = []
        for index, kind in self._exported:
            item = _ffi.wasmtime_extern_t()
            name, length = POINTER(c_char)(), c_size_t(0)
            if (
                not _ffi.wasmtime_instance_export_nth(
                    store._context(),
                    byref(instance),
                    index,
                    byref(name),
                    byref(length),
                    byref(item),
                )
                or int(item.kind) != kind
            ):
                raise PluginFailed(f"{self.name}: export {index} is not what the module said")
            found.append(
                item.of.memory if kind == _ffi.WASMTIME_EXTERN_MEMORY.value else item.of.func
            )
        return found[0], found[1], found[2]

    def measure(self, document: Mapping[str, Any]) -> Any:
        """The number a measurement plug-in answers (`{"value": n}`), or `PluginFailed`."""
        raw = self.call(document)
        try:
            answer = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise PluginFailed(f"{self.name}: the answer is not JSON ({raw[:40]!r})") from None
        value = answer.get("value") if isinstance(answer, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PluginFailed(f"{self.name}: the answer has no numeric 'value' ({raw[:60]!r})")
        return value


def _call(store: wasmtime.Store, func: Any, *args: int) -> Any:
    """Call an i32-only export. `Func.__call__` rebuilds the function's type and converts
    every value on each call (about 5x the call itself); the ABI's types are known and
    checked at load, so the values go straight to `wasmtime_func_call` (wasmtime 50's C
    API through its own ctypes bindings), traps raised as `Func.__call__` raises them."""
    if _ffi is None:  # pragma: no cover - another wasmtime layout: the checked path
        return func(store, *args)
    params = (_ffi.wasmtime_val_t * len(args))()
    for index, value in enumerate(args):
        params[index].kind = _ffi.WASMTIME_I32.value  # type: ignore[assignment]
        params[index].of.i32 = value
    results = (_ffi.wasmtime_val_t * 1)()
    with _enter_wasm(store) as trap:
        error = _ffi.wasmtime_func_call(
            store._context(), byref(func), params, len(args), results, 1, trap
        )
        if error:
            raise wasmtime.WasmtimeError._from_ptr(error)
    found = results[0]
    kind = int(found.kind)
    if kind == _ffi.WASMTIME_I64.value:
        return int(found.of.i64)
    if kind == _ffi.WASMTIME_I32.value:
        return int(found.of.i32)
    return None


def _memory_size(store: wasmtime.Store, memory: Any) -> int:
    if _ffi is None:  # pragma: no cover
        return int(memory.data_len(store))
    return int(_ffi.wasmtime_memory_data_size(store._context(), byref(memory)))


def _memory_base(store: wasmtime.Store, memory: Any) -> int:
    """The address of the instance's linear memory (bounds are the caller's)."""
    if _ffi is None:  # pragma: no cover
        return addressof(memory.data_ptr(store).contents)
    return addressof(_ffi.wasmtime_memory_data(store._context(), byref(memory)).contents)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _trap_reason(exc: Exception) -> str:
    text = str(exc)
    if "wasm trap:" in text:  # the cause, not the backtrace that precedes it
        text = text.rsplit("wasm trap:", 1)[1].strip()
    if "all fuel consumed" in text:
        return "ran out of fuel (instruction budget)"
    if "interrupt" in text:
        return "ran past its wall-clock limit"
    if "resource limit" in text or ("memory" in text and "limit" in text):
        return f"exceeded its memory limit ({text.strip().splitlines()[0]})"
    return f"trapped: {text.strip().splitlines()[0] if text.strip() else type(exc).__name__}"


def load_plugin(directory: Path, spec: Mapping[str, Any]) -> Plugin:
    """The plug-in a pack names (`module`, pinned by `sha256`), from the pack's directory.
    A `.wat` module is WebAssembly text, compiled here (the digest is of the file)."""
    relative = str(spec["module"])
    path = (directory / relative).resolve()
    if directory.resolve() not in path.parents:
        raise ValueError(f"{relative}: a plug-in must be inside its pack's directory")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{relative}: cannot read the module: {exc.strerror or exc}") from None
    if len(raw) > MAX_MODULE_BYTES:
        raise ValueError(f"{relative}: more than {MAX_MODULE_BYTES} bytes")
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    if digest != spec["sha256"]:
        raise ValueError(f"{relative}: its sha256 is {digest}, the pack pins {spec['sha256']}")
    wasm = raw
    if path.suffix == ".wat":
        try:
            wasm = bytes(wasmtime.wat2wasm(raw.decode("utf-8")))
        except (wasmtime.WasmtimeError, UnicodeDecodeError) as exc:
            raise ValueError(
                f"{relative}: not valid WebAssembly text: {_first_line(exc)}"
            ) from None
    limits = Limits(
        int(spec.get("fuel", DEFAULT_FUEL)),
        int(spec.get("memory_bytes", DEFAULT_MEMORY_BYTES)),
        float(spec.get("timeout_ms", DEFAULT_TIMEOUT_MS)),
    )
    plugin = Plugin(wasm, name=relative, limits=limits)
    plugin.digest = digest
    return plugin
