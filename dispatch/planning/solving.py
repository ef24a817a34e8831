"""File-level use cases of the optimizer: solve a problem file, check a solution file.

The CLI and any batch job call these; they turn the optimizer's format errors and I/O
errors into :class:`UserError` with the file named, and always re-check a fresh solution
with the independent checker before writing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from dispatch.errors import UserError
from dispatch.planning.explanations import explain_unassigned
from optimizer import check, is_feasible
from optimizer import read_problem, read_solution, write_solution
from optimizer import FormatError
from optimizer import Problem, Solution
from optimizer import Progress, load_params, load_weights
from optimizer import solve


def _read_problem(path: Path) -> Problem:
    if not path.exists():
        raise UserError(f"problem file not found: {path}")
    try:
        return read_problem(path)
    except FormatError as exc:
        raise UserError(f"{path}: {exc}") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None


def solve_file(
    problem_path: Path,
    out_path: Path,
    *,
    time_limit: float,
    seed: int = 0,
    solution_limit: int | None = None,
    params_file: Path | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> str:
    """Solve ``problem_path``, check the result, write it to ``out_path``; return a summary."""
    problem = _read_problem(problem_path)
    if params_file is not None:
        if not params_file.exists():
            raise UserError(f"parameters file not found: {params_file}")
        try:
            weights = load_weights(params_file)
            params = load_params(params_file, time_limit_s=time_limit, seed=seed,
                                 solution_limit=solution_limit, on_progress=on_progress)
        except (ValueError, TypeError) as exc:
            raise UserError(f"{params_file}: {exc}") from None
        from dataclasses import replace

        problem = replace(problem, weights=weights)
    else:
        params = load_params(None, time_limit_s=time_limit, seed=seed,
                             solution_limit=solution_limit, on_progress=on_progress)
    solution = solve(problem, params)
    violations = check(problem, solution)
    if not is_feasible(violations):
        # A solver bug, not a user error: say so loudly and keep the evidence.
        write_solution(solution, out_path)
        raise RuntimeError(
            f"the solver returned a plan that breaks {len(violations)} rule(s); written to {out_path} "
            f"for a bug report. First: {violations[0].message}"
        )
    try:
        write_solution(solution, out_path)
    except OSError as exc:
        raise UserError(f"cannot write {out_path}: {exc.strerror or exc}") from None
    return summarise(solution, out_path, problem)


def summarise(solution: Solution, out_path: Path | None = None, problem: Problem | None = None) -> str:
    """The figures of a solved plan; with ``problem``, its unplaced mandatory visits first, each with
    its reason (a plan that drops a mandatory visit never reads as a success line alone).

    A problem file has no date, so the reasons give times as minutes from its origin ("min 480").
    """
    k = solution.kpis
    lines = []
    if problem is not None:
        visits = problem.visit_by_id()
        dropped = [u for u in solution.unassigned if u.visit_id in visits and visits[u.visit_id].mandatory]
        if dropped:
            lines.append(f"MANDATORY VISITS NOT PLACED: {len(dropped)}")
            lines += [f"  {u.visit_id}: {u.reason.value}: {explain_unassigned(u, None).en}" for u in dropped]
    if k is not None:
        lines.append(
            f"placed {k.visits_placed}/{k.visits_total} visits (mandatory {k.mandatory_placed}/"
            f"{k.mandatory_total}), {k.workers_used} workers, travel {k.travel_minutes} min, "
            f"utilisation {k.utilisation:.0%}, continuity {k.continuity_share:.0%}"
        )
    if solution.stats is not None:
        s = solution.stats
        lines.append(f"objective {s.objective:,d}, {s.solutions_found} solutions in {s.elapsed_s:.1f} s ({s.status})")
    if out_path is not None:
        lines.append(f"solution written to {out_path}")
    return "\n".join(lines)


def check_files(problem_path: Path, solution_path: Path) -> tuple[bool, list[str]]:
    """Validate a solution file against a problem file: (feasible, lines to show)."""
    problem = _read_problem(problem_path)
    if not solution_path.exists():
        raise UserError(f"solution file not found: {solution_path}")
    try:
        solution = read_solution(solution_path)
    except FormatError as exc:
        raise UserError(f"{solution_path}: {exc}") from None
    violations = check(problem, solution)
    ok = is_feasible(violations)
    lines = [f"{v.severity}: {v.message}" for v in violations]
    errors = sum(1 for v in violations if v.severity == "error")
    lines.append("feasible" if ok else f"infeasible: {errors} violation(s)")
    return ok, lines
