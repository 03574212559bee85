"""Dev mode (`PAYGOD_DEV_MODE`, set by `make run`): a loud warning at every start and, on the
first start with no principals at all, a platform-admin dev key shown once on stderr.
Outside dev mode no key is minted: `paygod init --tenant T --admin NAME` creates the first
admin from the host."""

from __future__ import annotations

import os
import sys
from typing import Any

DEV_KEY_FILE = "dev-api-key"


DEV_MODE_WARNING = (
    "paygod: WARNING: PAYGOD_DEV_MODE is on (development only): a platform-admin dev key is"
    " minted at the first start and /readyz reports dev_mode as a warning. Never run"
    " production like this.\n"
)


def announce_dev_key(kernel: Any) -> None:
    identity = kernel.identity
    if not identity.settings.dev_mode:
        return
    sys.stderr.write(DEV_MODE_WARNING)
    sys.stderr.flush()
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
        "paygod: run `paygod init --tenant NAME --admin YOU` to create a tenant admin.\n"
    )
    sys.stderr.flush()
