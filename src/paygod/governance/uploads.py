"""Signed bundles uploaded over HTTP: the database policy source.

An upload is the bundle as JSON: `manifest` (bundle.json), `signature` (bundle.sig.json)
and `files` ({relative path: base64 content}). It is written to a private directory under
the policy home, verified exactly as a bundle on disk is (`decisions.bundles.verify_bundle`:
signature by a trusted key, every file the manifest names and no other), sealed in the
ledger whole (kind `policy.bundle`: manifest, signature and files, so the database holds
the source and any node can rebuild it), and each of its packs that differs from the
active version becomes a draft challenger. A refused upload changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from paygod.canonical import canonicalize
from paygod.decisions.bundles import (
    Keyring,
    bundle_path_problem,
    bundled_pack_dirs,
    materialize_into,
    verify_platform_bundle,
)
from paygod.governance.errors import GovernanceCode
from paygod.kernel.errors import Conflict, FieldError, InvalidInput
from paygod.ledger.model import EntryDraft

BUNDLE_KIND = "policy.bundle"
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_FILES = 500


def _escape(path: str) -> str:
    # RFC 6901 section 3: "~" and "/" inside one reference token.
    return path.replace("~", "~0").replace("/", "~1")


def decode_files(files: Mapping[str, str]) -> dict[str, bytes]:
    """The uploaded files, each path checked and each content decoded, or 422 naming it."""
    errors: list[FieldError] = []
    decoded: dict[str, bytes] = {}
    if len(files) > MAX_FILES:
        raise InvalidInput(
            f"at most {MAX_FILES} files", errors=[FieldError("/files", "too many files")]
        )
    for path, content in files.items():
        pointer = f"/files/{_escape(path)}"
        problem = bundle_path_problem(path)
        if problem is not None:
            errors.append(FieldError(pointer, f"path {problem}"))
            continue
        try:
            decoded[path] = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            errors.append(FieldError(pointer, "content must be base64 (RFC 4648 section 4)"))
    if sum(len(v) for v in decoded.values()) > MAX_UPLOAD_BYTES:
        errors.append(FieldError("/files", f"more than {MAX_UPLOAD_BYTES} bytes in all"))
    if errors:
        raise InvalidInput("the uploaded bundle is malformed", errors=errors)
    return decoded


def materialize(
    root: Path,
    manifest: Mapping[str, Any],
    signature: Mapping[str, Any],
    files: Mapping[str, bytes],
) -> Path:
    """Write the bundle into a directory of its own, named by its content's digest."""
    digest = hashlib.sha256(
        canonicalize({"manifest": manifest, "signature": signature})
    ).hexdigest()
    return materialize_into(root / ".uploads" / digest[:24], manifest, signature, files)


def verified_pack_dirs(
    directory: Path, keyring: Keyring | None
) -> tuple[dict[str, Any], list[Path]]:
    if keyring is None:
        raise Conflict(
            "uploaded bundles must be signed by a trusted key, and no key is trusted "
            "(set PAYGOD_PACKS_TRUSTED_KEYS)",
            code=GovernanceCode.NO_TRUSTED_KEYS,
        )
    manifest = verify_platform_bundle(directory, keyring)
    return manifest, list(bundled_pack_dirs(directory, manifest))


def bundle_entry(
    manifest: Mapping[str, Any],
    signature: Mapping[str, Any],
    files: Mapping[str, bytes],
    *,
    actor: str,
    at: str,
    subject: str | None = None,
) -> EntryDraft:
    return EntryDraft(
        kind=BUNDLE_KIND,
        subject=subject or f"policy-bundle:{manifest.get('name')}",
        payload={
            "manifest": dict(manifest),
            "signature": dict(signature),
            "files": {p: base64.b64encode(c).decode("ascii") for p, c in sorted(files.items())},
            "actor": actor,
            "at": at,
        },
        tenant_id="*",
    )
