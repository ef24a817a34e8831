"""carepath on the visits the peers are given and with the objective they are given.

Why a second like-for-like row: ``carepath_given`` solves the peers' visits with carepath's own
objective, which also prices workload balance (the square of each route's service minutes above
its fair share), preferred workers and gender preferences; those trade travel for a fairer,
more wanted roster, so its travel per placed visit measures the objective as much as the
search.  This row weights them 0 (``carepath_given_peer.PEERS_OBJECTIVE``), as the peers are given
no such terms: travel per placed visit then compares the searches.
"""

from __future__ import annotations

from benchmarks.peers.carepath_given_peer import CarepathGivenPeer

PEER = CarepathGivenPeer(name="carepath_travel", peers_objective=True)
