"""Secrets never reach the log: the calendar-feed token in a URL, bearer tokens, passwords in queries.

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
)
#: The loggers whose records can quote a request: uvicorn's request lines and errors, the API's, the CLI's.
LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn", "api", "api.errors", "dispatch", "procrastinate", "httpx")


def redact(text: str) -> str:
    """``text`` with every secret replaced by ``[redacted]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites the message and string arguments of each record (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
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
