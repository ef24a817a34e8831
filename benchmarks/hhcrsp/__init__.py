"""Home health care routing and scheduling with interdependent services (issue #8).

The instance family of Mankowska, Meisel and Bierwirth (2014) in its published JSON form:
``instance`` reads and writes it, ``generator`` makes look-alikes, ``convert`` turns one into
a carepath :class:`optimizer.model.Problem` and a solution back, ``evaluate`` recomputes the
family's cost without carepath, ``baseline`` is the plain OR-Tools model the issue measured,
and ``python -m benchmarks.hhcrsp FILE...`` runs both and writes ``results.json``.
"""
