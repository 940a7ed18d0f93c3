"""E-mail over SMTP (stdlib smtplib): one message per alert, Chinese text + HTML.

``security`` is ``starttls`` (port 587 by default), ``ssl`` (implicit TLS, port 465) or
``none`` (port 25; for a relay on localhost). ``username``/``password`` are optional and
go together. ``ca_file`` trusts a private CA (a self-signed relay). The Message-ID is
derived from the alert id, so a retried delivery can be recognised as the same mail.
SMTP 4xx and connection problems are retryable; 5xx, refused logins and TLS certificate
errors are not.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from zoneinfo import ZoneInfo

from yuqing.alerts.alert import Alert
from yuqing.alerts.channels import render
from yuqing.alerts.channels.base import DEFAULT_TIMEOUT, ConfigReader, DeliveryResult
from yuqing.errors import ConfigError

SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


class EmailChannel:
    """Send each alert as an e-mail through an SMTP server."""

    kind = "email"

    def __init__(
        self,
        host: str,
        sender: str,
        to: Sequence[str],
        *,
        port: int | None = None,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        name: str = "email",
        timeout: float = DEFAULT_TIMEOUT,
        subject_prefix: str = "[舆情预警]",
        zone: str = render.DEFAULT_ZONE,
        ca_file: str | None = None,
    ) -> None:
        if security not in SECURITY_MODES:
            raise ConfigError(
                f"alert channel {name!r} (email): security {security!r} is not one of {', '.join(SECURITY_MODES)}"
            )
        if (username is None) != (password is None):
            raise ConfigError(
                f"alert channel {name!r} (email): give both username and password, or neither"
            )
        if not to:
            raise ConfigError(f"alert channel {name!r} (email): 'to' names no recipient")
        self.name = name
        self.host = host
        self.port = port or DEFAULT_PORTS[security]
        self.security = security
        self.sender = sender
        self.to = list(to)
        self._username = username
        self._password = password
        self._timeout = timeout
        self._prefix = subject_prefix
        self._zone = ZoneInfo(zone)
        self._ca_file = ca_file

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EmailChannel:
        name = str(config.get("name") or "email")
        r = ConfigReader(
            config,
            f"alert channel {name!r} (email)",
            (
                "host", "port", "security", "username", "password", "sender", "to",
                "timeout", "subject_prefix", "timezone", "ca_file",
            ),
        )  # fmt: skip
        return cls(
            r.required_text("host"),
            r.required_text("sender"),
            r.text_list("to", required=True),
            port=r.integer("port", None),
            security=r.text("security", "starttls") or "starttls",
            username=r.text("username"),
            password=r.text("password"),
            name=name,
            timeout=r.number("timeout", DEFAULT_TIMEOUT),
            subject_prefix=r.text("subject_prefix", "[舆情预警]") or "",
            zone=r.text("timezone", render.DEFAULT_ZONE) or render.DEFAULT_ZONE,
            ca_file=r.text("ca_file"),
        )

    def message(self, alert: Alert) -> EmailMessage:
        """The e-mail for ``alert``: subject, plain text and an HTML alternative."""
        msg = EmailMessage()
        msg["Subject"] = render.subject(alert, self._prefix)
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg["Date"] = formatdate(alert.created_at.timestamp(), localtime=False)
        msg["Message-ID"] = f"<{alert.id}@yuqing>"
        msg["X-Yuqing-Alert-Id"] = alert.id
        msg.set_content(render.plain_text(alert, self._zone))
        msg.add_alternative(render.html_body(alert, self._zone), subtype="html")
        return msg

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context(cafile=self._ca_file)
        server: smtplib.SMTP
        if self.security == "ssl":
            server = smtplib.SMTP_SSL(self.host, self.port, timeout=self._timeout, context=context)
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=self._timeout)
            if self.security == "starttls":
                server.starttls(context=context)
        if self._username is not None and self._password is not None:
            server.login(self._username, self._password)
        return server

    def send(self, alert: Alert) -> DeliveryResult:
        where = f"email {self.name!r} via {self.host}:{self.port}"
        msg = self.message(alert)
        try:
            server = self._connect()
            try:
                refused = server.send_message(msg)
            finally:
                try:
                    server.quit()
                except (smtplib.SMTPException, OSError):
                    server.close()
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            return DeliveryResult.failure(
                f"{where}: every recipient refused: {exc.recipients}",
                retryable=all(400 <= c < 500 for c in codes),
            )
        except smtplib.SMTPAuthenticationError as exc:
            return DeliveryResult.failure(
                f"{where}: login refused ({exc.smtp_code}): check username/password",
                retryable=False,
                status=exc.smtp_code,
            )
        except smtplib.SMTPResponseException as exc:
            return DeliveryResult.failure(
                f"{where}: server said {exc.smtp_code} {exc.smtp_error!r}",
                retryable=400 <= exc.smtp_code < 500,
                status=exc.smtp_code,
            )
        except smtplib.SMTPNotSupportedError as exc:
            return DeliveryResult.failure(
                f"{where}: {exc}; check the 'security' setting", retryable=False
            )
        except ssl.SSLCertVerificationError as exc:
            return DeliveryResult.failure(
                f"{where}: TLS certificate not trusted ({exc.verify_message}); set 'ca_file'",
                retryable=False,
            )
        except (smtplib.SMTPException, OSError) as exc:  # OSError covers timeouts
            return DeliveryResult.failure(f"{where}: {type(exc).__name__}: {exc}", retryable=True)
        if refused:
            return DeliveryResult.success(250, f"some recipients refused: {refused}")
        return DeliveryResult.success(250)

    def close(self) -> None:
        """Nothing held: one SMTP connection per message (alerts are rare, relays drop idle ones)."""
