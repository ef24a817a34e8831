"""What the solver children's fork server imports first (see :mod:`dispatch.jobs.starter`).

Only the fork server imports this module, through multiprocessing's preload list: importing it
makes the importing process ignore SIGTERM, and loads the solver once for every child to come.

Why ignore SIGTERM: ``systemctl stop`` (and ``kill`` of a process group) sends SIGTERM to every
process of the group, the fork server included.  ``carepath worker`` lets a running solve finish on
that signal, but a solve is a child of the fork server and dies with it
(:func:`dispatch.jobs.child.die_with_parent`).  The server still ends when its starter does: it
watches a pipe that closes when the starter exits, however it exits.
"""

from __future__ import annotations

import signal

signal.signal(signal.SIGTERM, signal.SIG_IGN)

import dispatch.jobs.areas  # noqa: E402,F401 - loaded once here, inherited by every forked child
import dispatch.jobs.child  # noqa: E402,F401
import dispatch.planning.rosters  # noqa: E402,F401
