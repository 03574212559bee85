"""E-mail over SMTP (RFC 5321) with the standard library.

`PAYGOD_SMTP_URL`: `smtp://host:port` (plain, for a local relay), `smtp+starttls://host:587`
(STARTTLS, RFC 3207) or `smtps://host:465` (implicit TLS); a user and password in the URL
log in. The Message-ID is derived from the delivery id, so a resend after a crash carries
the same id and mail clients show it once. Only the digest of the sent message is kept.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit

from paygod.kernel.clock import Clock
from paygod.notifications.model import Delivery, Rendered, Subscription
from paygod.notifications.ports import SendFailed


class EmailChannel:
    def __init__(
        self, url: str | None, sender: str, clock: Clock, *, timeout_seconds: float = 10.0
    ) -> None:
        self.url = url
        self.sender = sender
        self.clock = clock
        self.timeout_seconds = timeout_seconds

    def message(self, delivery: Delivery, subscription: Subscription, rendered: Rendered) -> bytes:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = subscription.target
        mail["Subject"] = rendered.subject
        mail["Date"] = format_datetime(self.clock.now())
        domain = self.sender.rsplit("@", 1)[-1] or "paygod.invalid"
        mail["Message-ID"] = f"<{delivery.delivery_id}@{domain}>"
        mail.set_content(rendered.body)
        return mail.as_bytes()

    def send(self, delivery: Delivery, subscription: Subscription, message: Rendered) -> bytes:
        if not self.url:
            raise SendFailed("no SMTP server configured (PAYGOD_SMTP_URL)")
        data = self.message(delivery, subscription, message)
        parts = urlsplit(self.url)
        host, port = parts.hostname or "127.0.0.1", parts.port
        try:
            if parts.scheme == "smtps":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    host,
                    port or 465,
                    timeout=self.timeout_seconds,
                    context=ssl.create_default_context(),
                )
            else:
                client = smtplib.SMTP(host, port or 25, timeout=self.timeout_seconds)
            with client:
                if parts.scheme == "smtp+starttls":
                    client.starttls(context=ssl.create_default_context())
                if parts.username:
                    client.login(unquote(parts.username), unquote(parts.password or ""))
                client.sendmail(self.sender, [subscription.target], data)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendFailed(f"recipient refused: {exc}", permanent=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}") from exc
        return data
