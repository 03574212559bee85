"""What a credential looks like: private keys, cloud access keys, bearer tokens, JWTs,
Paygod API keys, and values held under password-like member names.

The ledger is append-only, exported and handed to auditors: a secret sealed there is
leaked for good and can never be rotated out of the record (DESIGN.md: "secrets never
enter the ledger"). So every write refuses a string that looks like one, before anything
is recorded. The patterns are detect-secrets' maintained plugins (Yelp/detect-secrets,
called class by class on each string value; its file scanner, filters and baseline are
not used), plus two of ours: an RFC 6750 bearer credential and a Paygod API key
(`identity/keys.py`: `pg_<12 lowercase alphanumerics>_<secret>`).

Cost: every write walks its document once. Strings shorter than the shortest credential
any plugin matches are skipped before any regular expression runs, and so are `sha256:`
digests, which make up most long strings of a decision.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from functools import cache, lru_cache
from typing import Any

from paygod.kernel.errors import FieldError
from paygod.kernel.pii import cached_when_short

# The shortest match of any plugin below: an AWS access key id is 20 characters, a Paygod
# key 3 + 12 + 1 + 20, a JWT's header alone more than 20.
MIN_LENGTH = 20
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")

# Member names whose value is a credential whatever it looks like (normalised: lower case,
# without `_`, `-`, `.` and spaces). A suffix match: `db_password`, `client_secret`.
PASSWORD_LIKE = (
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "secretkey",
    "privatekey",
    "apikey",
    "accesstoken",
    "refreshtoken",
    "authtoken",
    "sessiontoken",
    "bearertoken",
)
_NAME_NOISE = str.maketrans("", "", "_-. ")
_LONG_REPEAT = re.compile(r"\{(\d+),\d{4,}\}")


@cache
def _plugins() -> tuple[Any, ...]:
    """detect-secrets' plugin instances, built on first use: importing the package costs
    ~150 ms (it pulls in `requests`), which a CLI command that writes nothing never pays."""
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.basic_auth import BasicAuthDetector
    from detect_secrets.plugins.discord import DiscordBotTokenDetector
    from detect_secrets.plugins.github_token import GitHubTokenDetector
    from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
    from detect_secrets.plugins.jwt import JwtTokenDetector
    from detect_secrets.plugins.mailchimp import MailchimpDetector
    from detect_secrets.plugins.openai import OpenAIDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector
    from detect_secrets.plugins.pypi_token import PypiTokenDetector
    from detect_secrets.plugins.sendgrid import SendGridDetector
    from detect_secrets.plugins.slack import SlackDetector
    from detect_secrets.plugins.square_oauth import SquareOAuthDetector
    from detect_secrets.plugins.stripe import StripeDetector
    from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector

    class BearerTokenDetector(RegexBasedDetector):
        """RFC 6750 section 2.1: `Bearer` b64token, as pasted from an Authorization header."""

        secret_type = "Bearer Token"
        denylist = (re.compile(r"\bbearer\s+[A-Za-z0-9\-._~+/]{16,}=*", re.IGNORECASE),)

    class PaygodKeyDetector(RegexBasedDetector):
        """A Paygod API key (identity/keys.py `new_token`)."""

        secret_type = "Paygod API Key"
        denylist = (re.compile(r"\bpg_[a-z0-9]{12}_[A-Za-z0-9_\-]{20,128}"),)

    # Left out on purpose: the keyword and high-entropy plugins (made for source lines;
    # they flag every digest and id), IP addresses (not secrets), Twilio and Artifactory
    # (short prefixes plus base62 that ordinary ids and signatures match), and plugins
    # that need a keyword context (IBM, SoftLayer, Cloudant, npm's .npmrc line).
    return (
        PrivateKeyDetector(),
        AWSKeyDetector(),
        AzureStorageKeyDetector(),
        JwtTokenDetector(),
        BearerTokenDetector(),
        PaygodKeyDetector(),
        GitHubTokenDetector(),
        GitLabTokenDetector(),
        SlackDetector(),
        StripeDetector(),
        OpenAIDetector(),
        SendGridDetector(),
        PypiTokenDetector(),
        DiscordBotTokenDetector(),
        TelegramBotTokenDetector(),
        SquareOAuthDetector(),
        MailchimpDetector(),
        BasicAuthDetector(),
    )


@cache
def _gate() -> Any:
    """Every plugin's own patterns as one RE2 alternation: one linear-time pass over a
    string says whether any plugin could match, instead of some thirty backtracking
    `findall` passes (Python's `re` tries each alternative at each position; RE2 runs them
    as one automaton). Lookaheads, which RE2 lacks, are dropped, and repetitions beyond
    RE2's 1000 left open (`{50,1024}` as `{50,}`), so the gate matches a
    superset of what the plugins match. Only a string that passes it meets the plugins
    themselves (which also apply their own checks, such as a JWT's header decoding): the
    gate changes the cost, never the verdict."""
    import re2  # type: ignore[import-untyped]

    alternatives = []
    for plugin in _plugins():
        for pattern in plugin.denylist:
            text = _LONG_REPEAT.sub(r"{\1,}", pattern.pattern.replace("(?!\\w)", ""))
            flags = "i" if pattern.flags & re.IGNORECASE else ""
            alternatives.append(f"(?{flags}:{text})" if flags else f"(?:{text})")
    return re2.compile("|".join(alternatives))


@cached_when_short  # short values repeat from one write to the next
def credential_kind(value: str) -> str | None:
    """The kind of credential `value` holds (detect-secrets' `secret_type`), or None."""
    if len(value) < MIN_LENGTH or _DIGEST.fullmatch(value) or not _gate().search(value):
        return None
    for plugin in _plugins():
        for _ in plugin.analyze_string(value):
            return str(plugin.secret_type)
    return None


@lru_cache(maxsize=4096)  # member names repeat from one request to the next
def password_like(name: str) -> bool:
    return name.lower().translate(_NAME_NOISE).endswith(PASSWORD_LIKE)


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def value_problem(where: str, value: str) -> str | None:
    """Why the string at pointer `where` may not be written, or None."""
    name = _unescape(where.rsplit("/", 1)[-1]) if "/" in where else ""
    if value and name and not name.isdigit() and password_like(name):
        return f"the member {name!r} holds a credential; secrets never enter the ledger"
    kind = credential_kind(value)
    if kind is not None:
        return f"looks like a credential ({kind}); secrets never enter the ledger"
    return None


def _strings(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield pointer, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            name = str(key).replace("~", "~0").replace("/", "~1")
            yield from _strings(item, f"{pointer}/{name}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{pointer}/{index}")


def credential_problems(
    document: Any, pointer: str = "", *, exempt: Sequence[str] = ()
) -> list[FieldError]:
    """Every string of `document` that looks like a credential, with its JSON pointer.
    Strings under an `exempt` pointer (a webhook's own HMAC secret, which is stored sealed
    and never sealed into the ledger) are not checked."""
    errors: list[FieldError] = []
    for where, text in _strings(document, pointer):
        if exempt and any(where == e or where.startswith(e + "/") for e in exempt):
            continue
        problem = value_problem(where, text)
        if problem is not None:
            errors.append(FieldError(where, problem))
    return errors
