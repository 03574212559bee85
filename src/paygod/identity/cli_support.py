"""First start: with no principals at all, mint a dev key and show it once on stderr."""

from __future__ import annotations

import os
import sys
from typing import Any

DEV_KEY_FILE = "dev-api-key"


def announce_dev_key(kernel: Any) -> None:
    identity = kernel.identity
    if not identity.settings.dev_key:
        return
    issued = identity.dev_key()
    if issued is None:
        return
    # Also left in PAYGOD_HOME (mode 0600) so local tools and benchmarks can pick it up.
    path = kernel.settings.home / DEV_KEY_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(issued.token + "\n")
    # Written straight to stderr, never through the logger: logs are shipped and kept.
    sys.stderr.write(
        "paygod: first start, no principals yet: created platform admin 'dev'.\n"
        f"paygod: dev API key (shown once, also in {path}): {issued.token}\n"
        "paygod: run `paygod init` to create a tenant admin; revoke the dev key in production"
        " (PAYGOD_DEV_KEY=false disables it).\n"
    )
    sys.stderr.flush()
