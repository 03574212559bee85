"""One sample of each kind of credential a write must refuse (built here, not real keys)."""

from __future__ import annotations

import base64
import json


def _b64(doc: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")


JWT = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64({'sub': 'agent-7'})}.c2lnbmF0dXJlLWJ5dGVz"

# kind -> (member name, value): each value alone (under a neutral name) must be refused.
SECRETS: dict[str, str] = {
    "private-key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n",
    "aws-access-key": "AKIA" + "Q3EGRXV5ZL7JX2TN",
    "bearer-token": "Bearer " + "mF_9.B5f-4.1JqM" + "abcdefghijklmnop",
    "jwt": JWT,
    "paygod-api-key": "pg_" + "abcdefgh1234" + "_" + "Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTA",
    "github-token": "ghp_" + "A" * 36,
}

# A value that is harmless except for the member it sits under.
PASSWORD_FIELD = ("db_password", "hunter2")
