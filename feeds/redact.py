"""Credentials in feed URLs (``https://user:pass@host/feed``) are for fetching only.

Everything that shows, exports or records a URL (``feeds list``, feed health, OPML export,
notify payloads, control-socket events, logs) passes it through :func:`redact_url` or, for
free text that may quote one (an error message, a log line), :func:`redact_text`. The
password becomes ``***``; a user name without a password is redacted whole, since it is
often a token itself. The URL the fetcher uses keeps them.
"""
from __future__ import annotations

import logging
import re

MASK = "***"
# scheme://userinfo@ — up to the last '@' before the path, so that a password holding a raw
# '@' (not valid, but seen) is redacted whole.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/?#\s\"'<>]+)@")


def _mask(match: re.Match[str]) -> str:
    user, sep, _password = match.group(2).partition(":")
    return f"{match.group(1)}{user}:{MASK}@" if sep else f"{match.group(1)}{MASK}@"


def redact_url(url: str) -> str:
    """``https://user:pass@host/x`` → ``https://user:***@host/x``; other URLs as they are."""
    return redact_text(url)


def redact_text(text: str) -> str:
    """Every URL with credentials inside ``text``, redacted."""
    if "@" not in text:  # the common case, without a regex scan
        return text
    return _USERINFO.sub(_mask, text)


def has_credentials(url: str) -> bool:
    return redact_text(url) != url


class RedactingFilter(logging.Filter):
    """A handler filter: the formatted message of every record, redacted (whoever logged it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True
