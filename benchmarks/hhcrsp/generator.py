"""Instances of the Mankowska, Meisel and Bierwirth (2014) family, deterministic by seed.

Why a generator: the published instances and their best-known solutions are held back to
check results independently (issue #8), so we tune on look-alikes.  Every parameter below is
what the published files show where we could see them, and otherwise the paper's text as
quoted in the issue; ``benchmarks/hhcrsp/README.md`` lists each choice and its source.

``python -m benchmarks.hhcrsp.generator --out benchmarks/instances/hhcrsp`` writes the
committed set (3 instances per size for 10..100 patients, 1 each for 200 and 300).
"""

from __future__ import annotations

import argparse
import math
import random
from dataclasses import dataclass
from pathlib import Path

from benchmarks.hhcrsp.instance import Caregiver, Instance, Patient, Requirement, Sync, write_instance

SIZES: dict[int, int] = {10: 3, 25: 5, 50: 10, 75: 15, 100: 20, 200: 40, 300: 40}
"""Patients -> caregivers, as in the published family."""

GROUPS: tuple[tuple[str, ...], tuple[str, ...]] = (("s1", "s2", "s3"), ("s4", "s5", "s6"))


@dataclass(frozen=True)
class Params:
    """The family's parameters; defaults reconstruct the published instances."""

    width: int = 100
    height: int = 50
    """Integer coordinates in [0, width] x [0, height]: the published files use a 100 x 50 area."""
    horizon: int = 600
    window: int = 120
    """Window length; its start ``e`` is uniform in [0, horizon - window]."""
    duration_range: tuple[int, int] = (10, 20)
    """One service duration for the whole instance, uniform in this range (files show 13-16)."""
    double_share: float = 0.3
    """Share of patients needing two services; half simultaneous, the rest sequential."""
    dmin_range: tuple[int, int] = (1, 60)
    """Sequential pairs: dmin uniform in this range, dmax = 2 dmin."""
    group1_share: float = 1 / 3
    """Share of caregivers whose abilities come from {s1,s2,s3} (simultaneous pairs need two
    caregivers of {s4,s5,s6}, so that group is the larger one in the files)."""
    max_abilities: int = 3
    size_weights: tuple[tuple[float, float, float], tuple[float, float, float]] = ((27, 20, 7), (9, 31, 54))
    """Relative frequency of 1, 2 and 3 abilities for a caregiver of {s1,s2,s3} and of
    {s4,s5,s6}: counted over the 148 caregivers of ten published instances (10-300 patients;
    benchmarks/hhcrsp/PUBLISHED.md).  Half of the first group have a single ability and most
    of the second have all three, which makes s1-s3 the bottleneck of the family."""


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def _caregivers(rng: random.Random, m: int, p: Params) -> list[Caregiver]:
    n1 = max(1, min(m - 1, _round_half_up(m * p.group1_share))) if m > 1 else 1
    out = []
    for k in range(m):
        group = GROUPS[0] if k < n1 else GROUPS[1]
        weights = p.size_weights[0 if group is GROUPS[0] else 1][: min(p.max_abilities, len(group))]
        size = rng.choices(range(1, len(weights) + 1), weights=weights)[0]
        out.append(Caregiver(f"c{k + 1}", frozenset(rng.sample(group, size))))
    return out


def _staffable(caregivers: list[Caregiver], pairs: list[tuple[str, str]]) -> bool:
    """Every service is covered, and each simultaneous pair has two different caregivers."""
    services = {s for g in GROUPS for s in g}
    if not all(any(s in c.abilities for c in caregivers) for s in services):
        return False
    for a, b in pairs:
        if not any(a in x.abilities and b in y.abilities for x in caregivers for y in caregivers if x is not y):
            return False
    return True


def generate(n_patients: int, n_caregivers: int, seed: int, name: str | None = None,
             params: Params | None = None) -> Instance:
    """One instance; the same arguments always give the same instance (``random.Random(seed)``)."""
    p = params or Params()
    rng = random.Random(seed)
    duration = float(rng.randint(*p.duration_range))
    n_double = _round_half_up(n_patients * p.double_share)
    n_sim = n_double // 2
    n_seq = n_double - n_sim
    n_single = n_patients - n_double
    office = (float(rng.randint(0, p.width)), float(rng.randint(0, p.height)))
    all_services = [s for g in GROUPS for s in g]
    needs: list[tuple[tuple[str, ...], Sync | None]] = []
    for _ in range(n_single):
        needs.append(((rng.choice(all_services),), None))
    for _ in range(n_sim):
        needs.append((tuple(sorted(rng.sample(GROUPS[1], 2))), Sync("simultaneous")))
    for _ in range(n_seq):
        dmin = rng.randint(*p.dmin_range)
        needs.append(((rng.choice(GROUPS[0]), rng.choice(GROUPS[1])), Sync("sequential", float(dmin), float(2 * dmin))))
    patients = []
    for i, (services, sync) in enumerate(needs):
        loc = (float(rng.randint(0, p.width)), float(rng.randint(0, p.height)))
        e = rng.randint(0, p.horizon - p.window)
        req = tuple(Requirement(s, duration) for s in services)
        patients.append(Patient(f"p{i + 1}", loc, (float(e), float(e + p.window)), req, sync))
    pairs = [(pt.required[0].service, pt.required[1].service) for pt in patients
             if pt.sync is not None and pt.sync.type == "simultaneous"]
    for _ in range(1000):
        caregivers = _caregivers(rng, n_caregivers, p)
        if _staffable(caregivers, pairs):
            break
    else:
        raise ValueError(f"could not staff {n_patients} patients with {n_caregivers} caregivers (seed {seed})")
    points = [office] + [pt.location for pt in patients]
    distances = tuple(
        tuple(round(math.hypot(a[0] - b[0], a[1] - b[1]), 4) for b in points) for a in points
    )
    return Instance(
        name=name or f"hhcrsp-{n_patients:03d}-{seed}",
        patients=tuple(patients),
        services={s: duration for s in all_services},
        caregivers=tuple(caregivers),
        office_id="d",
        office=office,
        distances=distances,
    )


def standard_set() -> list[tuple[int, int, int]]:
    """(patients, caregivers, index) of the committed set: 3 per size up to 100, 1 above."""
    out = []
    for n, m in SIZES.items():
        for k in range(1, (3 if n <= 100 else 1) + 1):
            out.append((n, m, k))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.hhcrsp.generator", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for n, m, k in standard_set():
        inst = generate(n, m, seed=1000 * n + k, name=f"hhcrsp-{n:03d}-{k}")
        write_instance(inst, args.out / f"{inst.name}.json")
        print(args.out / f"{inst.name}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
