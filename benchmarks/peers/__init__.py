"""Peer solvers for issue 7's side-by-side benchmark (``python -m benchmarks.compare``).

Every peer takes the same ``optimizer.model.Problem`` that carepath solves and returns an
``optimizer.model.Solution``, so one independent checker (``optimizer.checker``) and one
evaluator (``optimizer.evaluate``) judge every plan the same way.  VROOM (pyvroom) and
PyVRP are optional, benchmark-only dependencies (``pip install -e '.[bench]'``): a missing
one becomes a "not installed" row, never a crash.
"""

from benchmarks.peers.base import PeerRun, Peer, get_peer, peer_names

__all__ = ["PeerRun", "Peer", "get_peer", "peer_names"]
