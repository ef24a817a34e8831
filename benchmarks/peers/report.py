"""Results rows -> ``compare.csv``, ``compare.md`` and the two PNG plots.

The markdown is what ``benchmarks/README.md`` quotes: machine, command, what each peer
was given, then one table per instance set.  Plots need matplotlib (``.[bench]``); without
it the tables are still written and the markdown says the plots are missing.
"""

from __future__ import annotations

import csv
import os
import platform
import statistics
from pathlib import Path
from typing import Any, Iterable

from benchmarks.solomon import SHARED, load_bks

Row = dict[str, Any]
SOLVER_LABEL = {"carepath": "carepath", "carepath_given": "carepath, peers' visits",
                "carepath_travel": "carepath, peers' visits and objective", "ortools": "plain OR-Tools",
                "vroom": "VROOM", "pyvrp": "PyVRP"}


def machine() -> str:
    """CPU model and count, load, Python and package versions: the context of every number."""
    import importlib.metadata as md

    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for pkg in ("ortools", "pyvroom", "pyvrp", "numpy", "matplotlib"):
        try:
            versions.append(f"{pkg} {md.version(pkg)}")
        except md.PackageNotFoundError:
            versions.append(f"{pkg} not installed")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} x {model}, Python {platform.python_version()}, {', '.join(versions)}; "
            f"load average at the end {load}")


def write_csv(rows: list[Row], path: Path) -> None:
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


def _fmt(x: Any, digits: int = 2) -> str:
    if x is None or x == "":
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "**NO**"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def _table(head: list[str], body: Iterable[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in body]
    return out


def add_gaps(rows: list[Row], bks_path: Path = SHARED / "bks.csv") -> None:
    """Gap to the best-known distance for Solomon rows that served every customer feasibly."""
    bks = load_bks(bks_path)
    for r in rows:
        if r.get("set") != "solomon":
            continue
        ref = bks.get(r["instance"])
        r["ref_distance"] = ref
        ok = r.get("distance") is not None and r.get("placed") == r.get("visits") and r.get("feasible")
        r["gap_pct"] = round(100 * (r["distance"] - ref) / ref, 2) if ok and ref else None


def _solomon_md(rows: list[Row], solvers: list[str]) -> list[str]:
    sol = [r for r in rows if r.get("set") == "solomon"]
    if not sol:
        return []
    solvers = [s for s in solvers if any(r["solver"] == s for r in sol)]  # the home-care-only rows have no column here
    names = sorted({r["instance"] for r in sol})
    by = {(r["instance"], r["solver"]): r for r in sol}

    def cell(name: str, s: str) -> str:
        r = by.get((name, s))
        if r is None:
            return "–"
        if r.get("gap_pct") is not None:
            return f"{r['gap_pct']:.2f}"
        if r.get("placed") is None:
            return str(r.get("status"))[:40]
        return f"infeasible or {r['visits'] - r['placed']} unserved"

    body = [[n] + [cell(n, s) for s in solvers] for n in names]
    means, counts = [], []
    for s in solvers:
        gaps = [by[(n, s)]["gap_pct"] for n in names if (n, s) in by and by[(n, s)].get("gap_pct") is not None]
        means.append(f"**{statistics.mean(gaps):.2f}**" if gaps else "–")
        counts.append(f"{len(gaps)}/{len(names)}")
    body.append(["mean gap %"] + means)
    body.append(["solved feasibly, all served"] + counts)
    limit = sol[0]["time_limit_s"]
    return [f"### Solomon VRPTW: gap % to best known distance ({limit:g} s each)", ""] + _table(
        ["instance"] + [SOLVER_LABEL.get(s, s) for s in solvers], body) + [""]


def _kielce_md(rows: list[Row], solvers: list[str]) -> list[str]:
    kie = [r for r in rows if r.get("set") == "kielce"]
    if not kie:
        return []
    head = ["day", "visits", "solver", "limit s", "solve s", "given", "placed", "mandatory", "travel min",
            "travel min / placed", "checker", "status / note"]
    body = []
    for r in kie:
        checker = _fmt(r.get("feasible")) if "feasible" in r else "–"
        if r.get("violations"):
            checker += f" ({r['violations']})"
        note = str(r.get("status", "")).splitlines()[0] if r.get("status") else ""
        body.append([r["instance"], _fmt(r.get("visits")), SOLVER_LABEL.get(r["solver"], r["solver"]),
                     _fmt(r.get("time_limit_s"), 0), _fmt(r.get("solve_s"), 1), _fmt(r.get("given")),
                     _fmt(r.get("placed")),
                     f"{r['mandatory_placed']}/{r['mandatory_total']}" if r.get("mandatory_total") else "–",
                     _fmt(r.get("travel_min")),
                     _fmt(r["travel_min"] / r["placed"]) if r.get("placed") and r.get("travel_min") is not None else "–",
                     checker, str(note)[:80]])
    out = ["### Kielce home-care days (demo day, seed 2026)", ""] + _table(head, body) + [""]
    left = {r["solver"]: r for r in kie if r.get("left_out")}
    if left:
        out += ["Visits left out per peer (not expressible), on the largest day run:", ""]
        for s, r in left.items():
            out.append(f"- {SOLVER_LABEL.get(s, s)} ({r['instance']}): {r['left_out']}")
        out.append("")
    notes = {r["solver"]: r["not_modelled"] for r in kie if r.get("not_modelled")}
    if notes:
        out += ["Rules given in a weaker form or not at all (the checker still applies all of them):", ""]
        out += [f"- {SOLVER_LABEL.get(s, s)}: {n}" for s, n in notes.items()] + [""]
    return out


def _scaling_md(rows: list[Row]) -> list[str]:
    sc = [r for r in rows if r.get("set") == "scaling"]
    if not sc:
        return []
    head = ["visits", "workers", "limit s", "build s", "first feasible s (construction)", "first progress s",
            "final s (solve)", "areas", "placed", "checker", "RSS after build MiB", "peak RSS MiB"]
    body = [[_fmt(r.get("visits")), _fmt(r.get("workers")), _fmt(r.get("time_limit_s"), 0), _fmt(r.get("build_s"), 1),
             _fmt(r.get("construct_s")), _fmt(r.get("first_progress_s")), _fmt(r.get("solve_s"), 1),
             _fmt(r.get("areas")), _fmt(r.get("placed")), _fmt(r.get("feasible")) if "feasible" in r else str(r.get("status")).splitlines()[0][:60],
             _fmt(r.get("rss_after_build_mb"), 0), _fmt(r.get("peak_rss_mb"), 0)] for r in sc]
    return ["### Scaling: carepath on generated home-care days", ""] + _table(head, body) + [""]


def _areas_md(rows: list[Row]) -> list[str]:
    ar = [r for r in rows if r.get("set") == "areas"]
    if not ar:
        return []
    head = ["day", "limit s", "worker processes", "job run s", "areas phase s", "areas (by the job)", "placed",
            "travel min", "job speed-up", "areas speed-up", "load after"]
    body = [[str(r.get("instance")), _fmt(r.get("time_limit_s"), 0),
             _fmt(r.get("workers")) if r.get("status") == "ok" else str(r.get("status")).splitlines()[0][:60],
             _fmt(r.get("job_run_s"), 1), _fmt(r.get("areas_phase_s")),
             f"{_fmt(r.get('areas'))} ({_fmt(r.get('areas_by_job'))})", _fmt(r.get("placed")), _fmt(r.get("travel_min")),
             _fmt(r.get("job_speedup")), _fmt(r.get("areas_speedup")),
             _fmt((r.get("load_after") or [None])[0])] for r in ar]
    return (["### Areas in parallel: one planning job, 1 and 2 queue workers (PostgreSQL)", ""]
            + _table(head, body) + [""])


def write_markdown(rows: list[Row], path: Path, *, command: str, set_name: str, settings: dict[str, str],
                   wall_s: float, plots: list[str], notes: list[str]) -> None:
    solvers = [s for s in SOLVER_LABEL if any(r.get("solver") == s for r in rows)]
    out = [f"## compare: `{set_name}` set", "", f"**Command:** `{command}`  ", f"**Machine:** {machine()}  ",
           f"**Wall time of the whole run:** {wall_s / 60:.1f} min", ""]
    out += ["**What each solver was given** (same limit per instance, one thread each):", ""]
    out += [f"- {SOLVER_LABEL.get(s, s)}: {text}" for s, text in settings.items()] + [""]
    out += notes + ([""] if notes else [])
    out += _solomon_md(rows, solvers) + _kielce_md(rows, solvers) + _scaling_md(rows) + _areas_md(rows)
    out += [f"![{p}]({p})" for p in plots]
    path.write_text("\n".join(out) + "\n")


def plot(rows: list[Row], out_dir: Path, decompose_at: int) -> list[str]:
    """compare_scaling.png (log-log time and memory vs visits) and compare_quality.png."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    made = []
    sc = sorted((r for r in rows if r.get("set") == "scaling" and r.get("solve_s")), key=lambda r: r["visits"])
    kie = [r for r in rows if r.get("set") == "kielce" and r.get("placed") is not None]
    if sc or kie:
        fig, (ax, axm) = plt.subplots(1, 2, figsize=(12, 4.8))
        if sc:
            xs = [r["visits"] for r in sc]
            ax.plot(xs, [r["construct_s"] for r in sc], "o-", label="carepath: first feasible plan (construction)")
            ax.plot(xs, [r["solve_s"] for r in sc], "s-", label="carepath: final plan (solve, limit ~n/60 s)")
            ax.plot(xs, [r["build_s"] for r in sc], "^:", color="grey", label="problem build (dispatch, not solver)")
            for r in sc:
                ax.annotate(f"{r.get('areas') or 1} area(s)", (r["visits"], r["solve_s"]), textcoords="offset points",
                            xytext=(4, -12), fontsize=7)
            axm.plot(xs, [r["peak_rss_mb"] for r in sc], "o-", label="carepath: peak RSS (build + solve)")
            axm.plot(xs, [r["rss_after_build_mb"] for r in sc], "^:", color="grey", label="RSS after problem build")
        markers = {"carepath": "o", "carepath_given": "P", "carepath_travel": "X", "ortools": "x", "vroom": "D", "pyvrp": "v"}
        for s in SOLVER_LABEL:
            pts = [r for r in kie if r["solver"] == s]
            if pts:
                ax.scatter([r["visits"] for r in pts], [r["solve_s"] for r in pts], marker=markers.get(s, "*"), s=40,
                           label=f"{SOLVER_LABEL[s]}: Kielce day, solve wall", zorder=3)
        for a in (ax, axm):
            a.axvline(decompose_at, ls="--", color="red", lw=1)
            a.text(decompose_at * 1.05, 0.97, f"> {decompose_at} visits: carepath splits into areas", color="red",
                   fontsize=7, transform=a.get_xaxis_transform(), va="top")
            a.set_xscale("log")
            a.set_yscale("log")
            a.set_xlabel("visits")
            a.grid(True, which="both", alpha=0.3)
        ax.set_ylabel("seconds")
        axm.set_ylabel("MiB")
        ax.set_title("time against size (log-log)")
        axm.set_title("peak memory against size (log-log)")
        ax.legend(fontsize=7, loc="lower right")
        axm.legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        fig.savefig(out_dir / "compare_scaling.png", dpi=110)
        plt.close(fig)
        made.append("compare_scaling.png")
    sol = [r for r in rows if r.get("set") == "solomon"]
    if sol or kie:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.5))
        solvers = [s for s in SOLVER_LABEL if any(r["solver"] == s for r in sol + kie)]
        names = sorted({r["instance"] for r in sol})
        width = 0.8 / max(1, len(solvers))
        for i, s in enumerate(solvers):
            by = {r["instance"]: r.get("gap_pct") for r in sol if r["solver"] == s}
            a1.bar([j + i * width for j in range(len(names))], [by.get(n) or 0 for n in names], width,
                   label=SOLVER_LABEL[s])
        a1.set_xticks([j + 0.4 - width / 2 for j in range(len(names))], names, rotation=45, fontsize=7)
        a1.set_ylabel("gap % to best known (0 where missing)")
        a1.set_title("Solomon VRPTW")
        a1.legend(fontsize=7)
        days = sorted({r["instance"] for r in kie}, key=lambda d: float(d.rstrip("x")))
        for i, s in enumerate(solvers):
            by = {r["instance"]: r for r in kie if r["solver"] == s}
            vals = [100 * by[d]["placed"] / by[d]["visits"] if d in by and by[d].get("feasible") else 0 for d in days]
            a2.bar([j + i * width for j in range(len(days))], vals, width, label=SOLVER_LABEL[s])
        a2.set_xticks([j + 0.4 - width / 2 for j in range(len(days))], days)
        a2.set_ylabel("% of the day's visits placed (feasible plans only)")
        a2.set_title("Kielce home-care days")
        a2.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out_dir / "compare_quality.png", dpi=110)
        plt.close(fig)
        made.append("compare_quality.png")
    return made
