"""One lock per application or loan, alive while someone holds or waits for it: steps on
different loans never wait for each other (a service-wide lock made every application
queue behind the one being committed)."""

from __future__ import annotations

import threading
import weakref


class KeyLock:
    __slots__ = ("__weakref__", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> KeyLock:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


class KeyedLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: weakref.WeakValueDictionary[str, KeyLock] = weakref.WeakValueDictionary()

    def __call__(self, key: str) -> KeyLock:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = KeyLock()
            return lock
