"""Command-line parsing of ``necc-bayes sensitivity`` and ``necc-bayes sbc`` (registered in cli)."""

from __future__ import annotations

import argparse
import math
import sys

from necc_bayes.errors import (
    EXIT_DIAGNOSTICS_FAILED,
    EXIT_ERROR,
    EXIT_OK,
    ArgumentError,
    Problem,
)

MAX_SIMULATIONS = 100_000
"""Upper bound of ``sbc --n-sims`` (each simulation is one fit)."""


def _check_count(
    problems: list[Problem], flag: str, value: int | None, low: int, high: int
) -> None:
    """An integer option must lie in [low, high] (``None``: not given, nothing to check)."""
    if value is not None and not low <= value <= high:
        problems.append(
            Problem("option_range", f"must be between {low:,} and {high:,}, got {value}", flag)
        )


def _check_refit_options(args: argparse.Namespace, problems: list[Problem]) -> None:
    _check_count(problems, "--workers", args.workers, 1, 64)
    if args.scheduler and args.scheduler not in ("serial", "processes"):  # the local ones
        _check_scheduler(str(args.scheduler), problems)


SCHEDULER_TIMEOUT_SECONDS = 5.0
"""How long ``--scheduler`` may take to accept a connection before the run is refused."""


def _check_scheduler(address: str, problems: list[Problem]) -> None:
    """A Dask scheduler must be usable before any fit: ``distributed`` installed, port open."""
    import importlib.util
    import socket
    from urllib.parse import urlsplit

    if importlib.util.find_spec("distributed") is None:
        msg = "needs the dask 'distributed' package, which is not installed"
        problems.append(Problem("scheduler_usable", msg, "--scheduler"))
        return
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number
        host, port = None, None
    if not host or not port:
        msg = f"expected an address such as tcp://host:8786, got {address!r}"
        problems.append(Problem("scheduler_usable", msg, "--scheduler"))
        return
    try:
        socket.create_connection((host, port), timeout=SCHEDULER_TIMEOUT_SECONDS).close()
    except OSError as exc:
        msg = f"no scheduler answers at {address} ({exc.strerror or exc})"
        problems.append(Problem("scheduler_usable", msg, "--scheduler"))


def _add_refit_options(p: argparse.ArgumentParser) -> None:
    """Sampler and scheduler options shared by `sensitivity` and `sbc`."""
    p.add_argument("--draws", type=int, help="posterior draws per chain of each refit")
    p.add_argument("--tune", type=int, help="warm-up draws per chain of each refit")
    p.add_argument("--chains", type=int, help="chains of each refit")
    p.add_argument(
        "--workers",
        type=int,
        help="run refits in N local worker processes (default: in this process, chains in "
        "parallel, which is faster on 2 cores)",
    )
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask scheduler instead")
    p.add_argument("--quiet", action="store_true", help="no progress display")


def _scheduler(args: argparse.Namespace) -> str:
    if args.scheduler:
        return str(args.scheduler)
    return "processes" if args.workers else "serial"


def add_sensitivity(sub: argparse._SubParsersAction) -> None:
    """Register ``sensitivity``: prior, baseline, cut-point and case-deletion sweeps."""
    p = sub.add_parser(
        "sensitivity",
        help="prior-scale, baseline, cut-point and case-deletion sweeps, power-scaling "
        "sensitivity and Pareto k (one compilation per model structure)",
    )
    p.add_argument("spec", help="model specification (TOML)")
    p.add_argument("--data", required=True, help="cohort CSV")
    p.add_argument("--out", required=True, help="output directory (must be new or empty)")
    p.add_argument(
        "--sweeps",
        default="prior_scale,baseline,cut_points,case_deletion",
        help="comma-separated subset of prior_scale,baseline,cut_points,case_deletion,"
        'robust_weight (the last needs a dist = "published" prior)',
    )
    p.add_argument("--scales", type=float, nargs="+", help="log-HR prior SDs (0.25 ... 10)")
    p.add_argument("--top-k", type=int, default=5, help="patients deleted in turn (5)")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    _add_refit_options(p)
    p.set_defaults(func=_run_sensitivity)


def _check_sensitivity_args(args: argparse.Namespace) -> tuple[str, ...]:
    """Every option of ``sensitivity``, checked before any work; returns the sweeps."""
    from necc_bayes.workflows.sensitivity.sweeps import SWEEPS

    problems: list[Problem] = []
    sweeps = tuple(s.strip() for s in args.sweeps.split(",") if s.strip())
    known = SWEEPS
    if bad := [s for s in sweeps if s not in known]:
        problems.append(Problem("sweep_known", f"unknown {bad}; choose {known}", "--sweeps"))
    elif not sweeps:
        problems.append(Problem("sweep_known", f"no sweep given; choose from {known}", "--sweeps"))
    if args.scales is not None:
        bad_scales = [v for v in args.scales if not (math.isfinite(v) and v > 0)]
        if bad_scales:
            msg = f"prior SDs must be finite and > 0, got {bad_scales}"
            problems.append(Problem("scale_positive", msg, "--scales"))
    _check_count(problems, "--top-k", args.top_k, 1, 1_000)
    _check_refit_options(args, problems)
    if problems:
        raise ArgumentError("sensitivity options", problems)
    return sweeps


def _run_sensitivity(args: argparse.Namespace) -> int:
    from necc_bayes.data.outputs import check_out_dir
    from necc_bayes.spec.io import load_spec, with_sampler_overrides

    sweeps = _check_sensitivity_args(args)
    check_out_dir(args.out, overwrite=args.overwrite)
    overrides = {k: getattr(args, k) for k in ("draws", "tune", "chains")}
    spec = with_sampler_overrides(load_spec(args.spec), overrides)

    from necc_bayes.survival.fit import fit
    from necc_bayes.workflows.sensitivity.sweeps import DEFAULT_SCALES, sensitivity_analysis

    result = fit(spec, args.data, progressbar=not args.quiet)
    sampler = result.spec.sampler
    report = sensitivity_analysis(
        result,
        sweeps=sweeps,
        scales=tuple(args.scales) if args.scales else DEFAULT_SCALES,
        influential_k=args.top_k,
        sampler=sampler,
        scheduler=_scheduler(args),
        n_workers=args.workers,
        quiet=args.quiet,
    )
    report.save(args.out, overwrite=args.overwrite)
    cols = ["sweep", "setting", "term", "hr_median", "hr_low", "hr_high", "p_hr_gt_1"]
    print(report.table[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    summary = report.summary()
    print(
        f"{summary['n_refits']} refits, {summary['n_compilations']} compilations, "
        f"{summary['seconds']} s ({summary['scheduler']})"
    )
    for line in summary["conclusion_changes"]:  # type: ignore[attr-defined]
        print(f"  conclusion changes across the {line}")
    print(f"wrote {args.out}/")
    diag = result.diagnostics()
    if not diag.passed:  # every setting is a refit of this fit: say so loudly, exit 3
        print(
            f"necc-bayes: diagnostics FAILED for the fit being swept ({args.spec}): "
            f"{'; '.join(diag.failures)}",
            file=sys.stderr,
        )
        return EXIT_DIAGNOSTICS_FAILED
    return EXIT_OK


def add_sbc(sub: argparse._SubParsersAction) -> None:
    """Register ``sbc``: simulation-based calibration of a specification."""
    p = sub.add_parser(
        "sbc",
        help="simulation-based calibration of a spec (resumable: re-run to continue)",
    )
    p.add_argument("spec", help="model specification (TOML)")
    p.add_argument("--data", required=True, help="cohort CSV (design and censoring pattern)")
    p.add_argument("--out", required=True, help="output directory (results are appended)")
    p.add_argument("--n-sims", type=int, default=1000, help="simulations (1000)")
    p.add_argument("--n-ranks", type=int, default=100, help="possible rank values (100)")
    _add_refit_options(p)
    p.set_defaults(func=_run_sbc)


def _run_sbc(args: argparse.Namespace) -> int:
    from pathlib import Path

    from necc_bayes.data.outputs import check_out_dir
    from necc_bayes.spec.io import override_settings
    from necc_bayes.workflows.sbc.run import DEFAULT_SBC_SAMPLER, run_sbc, setup_from_spec

    sampler = override_settings(
        DEFAULT_SBC_SAMPLER,
        {k: getattr(args, k) for k in ("draws", "tune", "chains")},
        source="sbc",
    )
    problems: list[Problem] = []
    _check_count(problems, "--n-sims", args.n_sims, 1, MAX_SIMULATIONS)
    # a rank is the position of the truth among n_ranks - 1 posterior draws of each fit
    _check_count(problems, "--n-ranks", args.n_ranks, 2, sampler.draws * sampler.chains + 1)
    _check_refit_options(args, problems)
    if problems:
        raise ArgumentError("sbc options", problems)
    check_out_dir(args.out, overwrite=True)  # results are appended: only usability is checked

    setup = setup_from_spec(args.spec, args.data, sampler=sampler, n_ranks=args.n_ranks)
    result = run_sbc(
        setup,
        args.n_sims,
        args.out,
        scheduler=_scheduler(args),
        n_workers=args.workers,
        quiet=args.quiet,
    )
    out = Path(args.out)
    print(result.tests.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    n_div = int((result.records["n_divergent"] > 0).sum())
    print(
        f"{len(result.ranks)} simulations ({result.stats.n_tasks} run now, "
        f"{result.stats.compilations} compilations, {result.seconds:.1f} s); "
        f"{n_div} with divergences; calibration {'passed' if result.passed else 'FAILED'}"
    )
    print(f"wrote {out}/")
    return EXIT_OK if result.passed else EXIT_ERROR
