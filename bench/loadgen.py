"""A minimal keep-alive HTTP/1.1 client over raw asyncio streams, for load generators.

httpx's async pool collapses under 64 concurrent connections on a small machine (the load
generator, not the server, becomes the bottleneck), so requests are written and responses
parsed by hand: Content-Length framing, which uvicorn always sends here. One `Connection`
per simulated client; a connection the server closed (restart, fault) is reopened once.
"""

from __future__ import annotations

import asyncio


class Connection:
    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.host_port = url.removeprefix("http://").rstrip("/")
        host, port = self.host_port.split(":")
        self.host, self.port = host, int(port)
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """(status, body); ConnectionError when the server gave no answer twice."""
        extra = self.extra + "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        if body is None:
            raw = f"{method} {path} HTTP/1.1\r\nHost: {self.host_port}\r\n{extra}\r\n".encode()
        else:
            raw = (
                f"{method} {path} HTTP/1.1\r\nHost: {self.host_port}\r\n{extra}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body
        for attempt in (1, 2):
            try:
                if self._writer is None:
                    await self._open()
                assert self._reader is not None and self._writer is not None
                self._writer.write(raw)
                head = await self._reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                return status, await self._reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                self.close()
                if attempt == 2:
                    raise ConnectionError(f"{method} {path}: no answer ({exc!r})") from exc
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
