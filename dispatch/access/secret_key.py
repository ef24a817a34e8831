"""The secret that signs access tokens: configured, or generated once per install and kept.

Why: until 2026-12 a development secret was written in the source, and a server started
the README's way signed tokens with it, so anyone could make themselves admin.  Now:

* ``CAREPATH_SECRET_KEY`` set: that is the secret (``Settings`` refuses a published or, outside
  development, a short one, and refuses to start in production without one).
* not set (development, the demo, a single-office install): a random 48-byte secret is made
  on first start and kept in ``<data_dir>/secret_key`` (mode 0600), so tokens survive a
  restart and no two installs share a secret.  Several processes starting at once agree on
  one file (created with ``O_EXCL``; the losers read the winner's).

A site with several API servers sets ``CAREPATH_SECRET_KEY`` on all of them (README).
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from dispatch.settings import Settings

log = logging.getLogger(__name__)

FILE_NAME = "secret_key"


def secret_file(settings: Settings) -> Path:
    return settings.data_dir / FILE_NAME


def _read(path: Path) -> str:
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds a secret of {len(key)} characters; delete the file to make a new one")
    return key


def signing_secret(settings: Settings) -> str:
    """The token-signing secret for this process (see the module docstring)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = secret_file(settings)
    if path.exists():
        return _read(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return _read(path)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    log.warning("CAREPATH_SECRET_KEY is not set: generated a random token-signing secret in %s "
                "(fine for one machine; set CAREPATH_SECRET_KEY on every server of a multi-server site)", path)
    return key
