"""The ``necc-bayes`` command line: argument parsing only; the work is done elsewhere.

Exit codes: 0 success, 2 bad input (data, spec or arguments), 1 anything else.
Each subcommand is registered by an ``_add_<name>`` function below.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from necc_bayes import __version__
from necc_bayes.errors import InputError, OutputExistsError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_INPUT = 2

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors exit with code 2 and no traceback (the default)."""


def _add_reproduce(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reproduce",
        help="full Bayesian re-analysis of the study on the bundled (synthetic) data",
    )
    p.add_argument("--out", default="results", help="output directory (default: results)")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--draws", type=int, help="override every model's draws per chain")
    p.add_argument("--chains", type=int, help="override every model's number of chains")
    p.set_defaults(func=_run_reproduce)


def _run_reproduce(args: argparse.Namespace) -> int:
    from necc_bayes.reproduce import run_reproduce

    out = run_reproduce(
        args.out, overwrite=args.overwrite, quiet=args.quiet, draws=args.draws, chains=args.chains
    )
    print(f"wrote {out}/ (open {out}/report.html); all posteriors are from the SYNTHETIC cohort")
    return EXIT_OK


def _add_validate_data(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate-data", help="check a data file against a spec and report every problem"
    )
    p.add_argument("spec", help="model specification (TOML)")
    p.add_argument("--data", required=True, help="cohort CSV")
    p.set_defaults(func=_run_validate_data)


def _run_validate_data(args: argparse.Namespace) -> int:
    from necc_bayes.load import data_profile
    from necc_bayes.validation import check_inputs

    checked = check_inputs(args.spec, args.data)
    profile = data_profile(checked.cohort)
    print(f"OK: {args.data} satisfies {args.spec}")
    for key, value in profile.items():
        if key == "terms":
            print("terms:")
            for term, desc in dict(value).items():  # type: ignore[call-overload]
                print(f"  {term}: {desc}")
        else:
            print(f"{key}: {value}")
    cuts = [round(float(c), 4) for c in checked.cuts]
    print(f"intervals: {len(cuts) + 1} (cuts: {cuts})")
    return EXIT_OK


def _add_fit(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fit", help="fit one piecewise-exponential model")
    p.add_argument("spec", help="model specification (TOML)")
    p.add_argument("--data", required=True, help="cohort CSV")
    p.add_argument("--out", required=True, help="output directory (must be new or empty)")
    p.add_argument("--draws", type=int, help="posterior draws per chain (overrides the spec)")
    p.add_argument("--tune", type=int, help="warm-up draws per chain (overrides the spec)")
    p.add_argument("--chains", type=int, help="number of chains (overrides the spec)")
    p.add_argument("--seed", type=int, help="random seed (overrides the spec)")
    p.add_argument("--sampler", choices=["nutpie", "pymc"], help="NUTS implementation")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=_run_fit)


def _run_fit(args: argparse.Namespace) -> int:
    from necc_bayes.fit_outputs import write_fit_outputs
    from necc_bayes.fitting import fit
    from necc_bayes.outputs import check_out_dir

    check_out_dir(args.out, overwrite=args.overwrite)
    overrides = {k: getattr(args, k) for k in ("draws", "tune", "chains", "seed", "sampler")}
    result = fit(args.spec, args.data, overrides=overrides, progressbar=not args.quiet)
    dropped = result.checked.cohort.dropped_rows
    if dropped:
        print(
            f"dropped {len(dropped)} rows with missing values (data.missing = 'drop'): "
            f"{list(dropped)}"
        )
    out = write_fit_outputs(result, args.out, overwrite=args.overwrite)
    diag = result.diagnostics()
    print(result.hazard_ratios().to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"diagnostics: {'passed' if diag.passed else 'FAILED'}")
    for msg in diag.failures:
        print(f"  WARNING: {msg}", file=sys.stderr)
    print(f"wrote {out}/")
    return EXIT_OK


_PRIOR_HELP = (
    "uniform (Beta(1,1), default) | jeffreys (Beta(1/2,1/2)) | beta:A,B | "
    "skeptical:SD[,M] (common Beta for both arms, mean M = pooled rate unless given, sd SD) | "
    "mixture:A,B,W[,C,D] (W*Beta(A,B) + (1-W)*Beta(C,D), C,D = 1,1 by default; weights "
    "updated as RBesT postmix) | robust:SD[,W] (W*skeptical(SD) + (1-W)*Beta(1,1), W=0.5)"
)


def _add_orr(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "orr",
        help="beta-binomial response-rate comparison, treated vs control (exact, no sampling)",
        description="Posterior of each arm's response rate, P(p_t > p_c), P(p_t - p_c > delta), "
        "difference, risk ratio and odds ratio with equal-tailed intervals. Closed-form "
        "posteriors; probabilities and quantiles by exact quadrature/root finding.",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--treated", metavar="X/N", help="treated responders/assessed, e.g. 7/16")
    src.add_argument(
        "--from-table5", action="store_true", help="treated arm from the bundled Table 5 (ICI)"
    )
    p.add_argument(
        "--definition",
        choices=["final", "best"],
        default="final",
        help="with --from-table5: responder by final status (7/16) or best response (8/16)",
    )
    p.add_argument(
        "--control", metavar="Y/M", help="control responders/assessed (default with Table 5: 9/41)"
    )
    p.add_argument("--prior", default="uniform", help=f"prior for both arms: {_PRIOR_HELP}")
    p.add_argument("--prior-treated", help="prior for the treated arm only (overrides --prior)")
    p.add_argument("--prior-control", help="prior for the control arm only (overrides --prior)")
    p.add_argument("--delta", type=float, default=0.0, help="margin for P(p_t - p_c > delta)")
    p.add_argument("--prob", type=float, default=0.95, help="interval probability (0.95)")
    p.add_argument(
        "--all-priors",
        action="store_true",
        help="prior sensitivity: results under every built-in prior side by side",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object (or list)")
    p.add_argument("--plot", metavar="FILE", help="write posterior plots to FILE (.png/.svg)")
    p.set_defaults(func=_run_orr)


def _run_orr(args: argparse.Namespace) -> int:
    import json

    from necc_bayes.errors import DataError, Problem
    from necc_bayes.orr_inputs import parse_counts, parse_prior
    from necc_bayes.response_rates import (
        BUILTIN_PRIORS,
        STUDY_CONTROL,
        compare,
        format_sensitivity,
        prior_sensitivity,
        table5_counts,
    )

    if args.from_table5:
        treated = table5_counts(args.definition)
        control = STUDY_CONTROL if args.control is None else parse_counts(args.control, "--control")
    else:
        given = (("--treated", args.treated), ("--control", args.control))
        missing = [name for name, value in given if not value]
        if missing:
            msg = f"{' and '.join(missing)} required (X/N), or use --from-table5"
            raise DataError("arguments", [Problem("counts_required", msg)])
        treated = parse_counts(args.treated, "--treated")
        control = parse_counts(args.control, "--control")
    if args.all_priors:
        priors = list(BUILTIN_PRIORS)
        if args.prior not in priors:
            priors.append(args.prior)
        table = prior_sensitivity(treated, control, priors, delta=args.delta, prob=args.prob)
        if args.json:
            print(json.dumps(table.to_dict(orient="records"), indent=2))
        else:
            print(f"treated {treated[0]}/{treated[1]} vs control {control[0]}/{control[1]}")
            print(format_sensitivity(table, delta=args.delta, prob=args.prob))
        return EXIT_OK
    per_arm = {
        name: None if text is None else parse_prior(text, flag)
        for name, text, flag in (
            ("treated", args.prior_treated, "--prior-treated"),
            ("control", args.prior_control, "--prior-control"),
        )
    }
    result = compare(
        treated,
        control,
        parse_prior(args.prior, "--prior"),
        prior_treated=per_arm["treated"],
        prior_control=per_arm["control"],
        delta=args.delta,
        prob=args.prob,
    )
    print(result.to_json() if args.json else str(result))
    if args.plot:
        from necc_bayes.plots_orr import plot_posteriors

        plot_posteriors(result, args.plot)
    return EXIT_OK


def _add_orr_oc(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "orr-oc",
        help="operating characteristics of 'declare benefit if P(p_t > p_c) > c'",
        description="Exact type-I error and power (binomial sums over every possible outcome, "
        "closed-form posteriors) for the ORR decision rule. Default sizes: the study's 16 vs 41.",
    )
    p.add_argument("--n-treated", type=int, default=16, help="treated arm size (16)")
    p.add_argument("--n-control", type=int, default=41, help="control arm size (41)")
    p.add_argument("--prior", default="uniform", help=f"prior for both arms: {_PRIOR_HELP}")
    p.add_argument(
        "--threshold", type=float, nargs="+", default=[0.9, 0.95], help="values of c (0.9 0.95)"
    )
    p.add_argument(
        "--p-control", type=float, nargs="+", default=[0.1, 0.22, 0.3], help="true control rates"
    )
    p.add_argument(
        "--steps",
        type=float,
        nargs="+",
        default=[0.0, 0.1, 0.2, 0.3, 0.4],
        help="p_treated - p_control for the rows (0 = type-I error)",
    )
    p.add_argument("--csv", metavar="FILE", help="also write the table as CSV")
    p.add_argument("--json", action="store_true", help="print the table as JSON records")
    p.add_argument("--plot", metavar="FILE", help="write power/type-I curves to FILE")
    p.set_defaults(func=_run_orr_oc)


def _run_orr_oc(args: argparse.Namespace) -> int:
    from necc_bayes.operating_characteristics import decision_matrix, format_oc_table, oc_table
    from necc_bayes.orr_inputs import parse_prior

    dm = decision_matrix(args.n_treated, args.n_control, parse_prior(args.prior, "--prior"))
    table = oc_table(
        prior=args.prior,
        thresholds=args.threshold,
        p_control=args.p_control,
        steps=args.steps,
        dm=dm,
    )
    print(table.to_json(orient="records", indent=2) if args.json else format_oc_table(table, dm))
    if args.csv:
        table.to_csv(args.csv, index=False)
    if args.plot:
        from necc_bayes.plots_orr import plot_operating_characteristics

        plot_operating_characteristics(dm, args.plot, args.threshold, args.p_control)
    return EXIT_OK


REGISTRY: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_reproduce,
    _add_validate_data,
    _add_fit,
    _add_orr,
    _add_orr_oc,
]


def _add_synthesize(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synthesize",
        help="write the SYNTHETIC cohort calibrated to the study, its true parameters and "
        "calibration table",
    )
    p.add_argument("--seed", type=int, help="generator seed (default: the shipped file's seed)")
    p.add_argument("--out", required=True, help="cohort CSV to write")
    p.add_argument("--truth", help="true-parameter JSON (default: <stem>_truth.json)")
    p.add_argument("--calibration", help="calibration CSV (default: <stem>_calibration.csv)")
    p.set_defaults(func=_run_synthesize)


def _run_synthesize(args: argparse.Namespace) -> int:
    from necc_bayes.synthetic import DEFAULT_SEED, write_cohort

    seed = DEFAULT_SEED if args.seed is None else args.seed
    paths = write_cohort(args.out, seed, truth_path=args.truth, calibration_path=args.calibration)
    print(f"synthetic cohort (seed {seed}): " + ", ".join(str(p) for p in paths.values()))
    return EXIT_OK


REGISTRY.append(_add_synthesize)


def _add_compare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare", help="compare fits of the same data by PSIS-LOO (reads DIR/posterior.nc)"
    )
    p.add_argument("dirs", nargs="+", metavar="DIR", help="output directories of `fit`")
    p.add_argument("--json", action="store_true", help="print the table as JSON records")
    p.set_defaults(func=_run_compare)


def _run_compare(args: argparse.Namespace) -> int:
    import warnings

    from necc_bayes.model_comparison import ParetoKWarning, compare_dirs

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ParetoKWarning)
        table = compare_dirs(args.dirs)
    if args.json:
        print(table.reset_index(names="model").to_json(orient="records", indent=2))
    else:
        print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    for w in caught:
        print(f"WARNING: {w.message}", file=sys.stderr)
    return EXIT_OK


REGISTRY.append(_add_compare)


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


def _add_sensitivity(sub: argparse._SubParsersAction) -> None:
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
        help="comma-separated subset of prior_scale,baseline,cut_points,case_deletion",
    )
    p.add_argument("--scales", type=float, nargs="+", help="log-HR prior SDs (0.25 ... 10)")
    p.add_argument("--top-k", type=int, default=5, help="patients deleted in turn (5)")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    _add_refit_options(p)
    p.set_defaults(func=_run_sensitivity)


def _run_sensitivity(args: argparse.Namespace) -> int:
    from necc_bayes.errors import DataError, Problem
    from necc_bayes.fitting import fit
    from necc_bayes.outputs import check_out_dir
    from necc_bayes.refit import SamplerSettings
    from necc_bayes.sensitivity import DEFAULT_SCALES, sensitivity_analysis
    from necc_bayes.sensitivity_outputs import run_summary, write_sensitivity

    sweeps = tuple(s.strip() for s in args.sweeps.split(",") if s.strip())
    known = ("prior_scale", "baseline", "cut_points", "case_deletion")
    if bad := [s for s in sweeps if s not in known]:
        raise DataError("--sweeps", [Problem("sweep_known", f"unknown {bad}; choose {known}")])
    check_out_dir(args.out, overwrite=args.overwrite)
    overrides = {k: getattr(args, k) for k in ("draws", "tune", "chains")}
    result = fit(args.spec, args.data, overrides=overrides, progressbar=not args.quiet)
    s = result.spec.sampler
    sampler = SamplerSettings(
        draws=s.draws, tune=s.tune, chains=s.chains, target_accept=s.target_accept
    )
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
    write_sensitivity(report, args.out)
    cols = ["sweep", "setting", "term", "hr_median", "hr_low", "hr_high", "p_hr_gt_1"]
    print(report.table[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    summary = run_summary(report)
    print(
        f"{summary['n_refits']} refits, {summary['n_compilations']} compilations, "
        f"{summary['seconds']} s ({summary['scheduler']})"
    )
    for line in summary["conclusion_changes"]:  # type: ignore[attr-defined]
        print(f"  conclusion changes across the {line}")
    print(f"wrote {args.out}/")
    return EXIT_OK


REGISTRY.append(_add_sensitivity)


def _add_sbc(sub: argparse._SubParsersAction) -> None:
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

    from necc_bayes.refit import SamplerSettings
    from necc_bayes.sbc import DEFAULT_SBC_SAMPLER, run_sbc, setup_from_spec
    from necc_bayes.sensitivity_plots import save

    d = DEFAULT_SBC_SAMPLER
    sampler = SamplerSettings(
        draws=args.draws or d.draws, tune=args.tune or d.tune, chains=args.chains or d.chains
    )
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
    result.tests.to_csv(out / "sbc_summary.csv", index=False)
    save(result.figure(), str(out / "sbc_ecdf.png"))
    print(result.tests.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    n_div = int((result.records["n_divergent"] > 0).sum())
    print(
        f"{len(result.ranks)} simulations ({result.stats.n_tasks} run now, "
        f"{result.stats.compilations} compilations, {result.seconds:.1f} s); "
        f"{n_div} with divergences; calibration {'passed' if result.passed else 'FAILED'}"
    )
    print(f"wrote {out}/")
    return EXIT_OK


REGISTRY.append(_add_sbc)


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every subcommand registered."""
    parser = _Parser(prog="necc-bayes", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"necc-bayes {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in REGISTRY:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit code."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.func
    try:
        return handler(args)
    except (InputError, OutputExistsError) as err:
        print(f"necc-bayes: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
