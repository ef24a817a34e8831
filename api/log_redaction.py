"""Secrets never reach the log: the calendar-feed token in a URL, bearer tokens, passwords in queries
and in database URLs.

The calendar feed's URL is its credential (``/api/v1/calendar/<token>.ics``), and uvicorn's access
log writes every request line, so without this filter anyone who can read the server log could
subscribe to any worker's schedule.  ``RedactSecrets`` rewrites a record's message and arguments
before any handler formats them; ``install_redaction`` puts it on the loggers that write request
lines or errors (uvicorn's and carepath's own).  Filters of a logger see only records logged to
that logger, so it goes on each of them (and their handlers), not only on the root.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(/calendar/)[^/\s?\"']+?(\.ics)"), rf"\1{REDACTED}\2"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), rf"\1{REDACTED}"),
    (re.compile(r"(?i)((?:access_token|token|password|secret|key)=)[^&\s\"']+"), rf"\1{REDACTED}"),
    (re.compile(r"(://[^:/\s@]+:)[^@\s/]+(@)"), rf"\1{REDACTED}\2"),  # a password in a database URL
)
#: The loggers whose records can quote a request: uvicorn's request lines and errors, the API's, the CLI's.
LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn", "api", "api.errors", "dispatch", "procrastinate", "httpx")


def redact(text: str) -> str:
    """``text`` with every secret replaced by ``[redacted]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Formats the record's message and, if it quotes a secret, replaces it by the redacted text
    (never drops a record).  Formatting first matters: a secret may sit in the arguments, and a
    pattern such as ``token=%s`` must not lose its placeholder."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is the logging module's to report
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


_FILTER = RedactSecrets()


def install_redaction() -> None:
    """Put the filter on the request-writing loggers and their handlers (idempotent)."""
    for name in (*LOGGERS, ""):  # "": the root, whose handlers get what other loggers propagate
        logger = logging.getLogger(name)
        if name and _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
