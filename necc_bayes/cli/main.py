"""The ``necc-bayes`` command line: argument parsing only; the work is done elsewhere.

Exit codes (DESIGN §4, §8; :mod:`necc_bayes.cli.runtime`): 0 success, 2 bad input (data, spec,
arguments or an unusable ``--out``), 3 the result was written but diagnostics failed (``fit``:
its own; ``reproduce``: any of its fits; ``sensitivity``: the fit it sweeps),
130 interrupted (Ctrl-C; 143 for SIGTERM), 1 anything else.
Each subcommand is registered in ``REGISTRY`` by an ``add`` function (here, in
``cli_orr`` and in ``cli_sweeps``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Callable, Sequence

from necc_bayes._runstate import announce
from necc_bayes._version import __version__
from necc_bayes.cli.cache import add_cache
from necc_bayes.cli.orr import add_orr, add_orr_oc
from necc_bayes.cli.runtime import leave_objects_to_os, limit_blas_threads, run, short_lived_gc
from necc_bayes.cli.sweeps import add_sbc, add_sensitivity
from necc_bayes.errors import EXIT_DIAGNOSTICS_FAILED, EXIT_OK

Handler = Callable[[argparse.Namespace], int]


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
    from necc_bayes.data.outputs import check_out_dir
    from necc_bayes.spec.io import override_settings
    from necc_bayes.spec.settings import SamplerSettings

    # the overrides apply to every model: validated once, before anything heavy is imported
    override_settings(
        SamplerSettings(), {"draws": args.draws, "chains": args.chains}, source="reproduce"
    )
    check_out_dir(args.out, overwrite=args.overwrite)
    announce("import")
    from necc_bayes.studies.necc.reproduce import failed_diagnostics, run_reproduce

    out = run_reproduce(
        args.out, overwrite=args.overwrite, quiet=args.quiet, draws=args.draws, chains=args.chains
    )
    print(f"wrote {out}/ (open {out}/report.html); all posteriors are from the SYNTHETIC cohort")
    failed = failed_diagnostics(out)
    for model, failures in failed:  # loudly, on stderr: the result is written but not trusted
        print(f"necc-bayes: diagnostics FAILED for {model}: {failures}", file=sys.stderr)
    if failed:
        print(
            f"diagnostics: FAILED for {len(failed)} model(s) (see "
            f"{out}/diagnostics_summary.csv and report.html); exit {EXIT_DIAGNOSTICS_FAILED}"
        )
        return EXIT_DIAGNOSTICS_FAILED
    print("diagnostics: passed for every model")
    return EXIT_OK


def _add_validate_data(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate-data", help="check a data file against a spec and report every problem"
    )
    p.add_argument("spec", help="model specification (TOML)")
    p.add_argument("--data", required=True, help="cohort CSV")
    p.set_defaults(func=_run_validate_data)


def _run_validate_data(args: argparse.Namespace) -> int:
    from necc_bayes.data.profile import data_profile
    from necc_bayes.survival.inputs import check_fittable, check_inputs

    checked = check_inputs(args.spec, args.data)
    check_fittable(checked, source=args.spec)
    profile = data_profile(checked.cohort)
    print(f"OK: {args.data} satisfies {args.spec}")
    for key, value in profile.items():
        if isinstance(value, dict):  # terms, strata, clusters: one line per entry
            print(f"{key}:")
            for term, desc in value.items():
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
    from necc_bayes.data.outputs import check_out_dir
    from necc_bayes.spec.io import load_spec, with_sampler_overrides

    check_out_dir(args.out, overwrite=args.overwrite)
    overrides = {k: getattr(args, k) for k in ("draws", "tune", "chains", "seed", "sampler")}
    # validated like the spec's own [sampler] values, before anything heavy is imported
    spec = with_sampler_overrides(load_spec(args.spec), overrides)

    announce("import")
    # ArviZ first, while few modules are loaded: without jax installed, its lazy_loader.load("jax")
    # calls inspect.stack(), which maps every loaded module to its file (~0.07 s here, ~0.2 s
    # when nutpie imports it after PyMC)
    import arviz_base  # noqa: F401

    from necc_bayes.survival.fit import fit

    result = fit(spec, args.data, progressbar=not args.quiet)
    dropped = result.checked.cohort.dropped_rows
    if dropped:
        print(
            f"dropped {len(dropped)} rows with missing values (data.missing = 'drop'): "
            f"{list(dropped)}"
        )
    out = result.save(args.out, overwrite=args.overwrite)
    diag = result.diagnostics()
    from necc_bayes.report.console import hazard_ratio_text
    from necc_bayes.survival.informative_priors import informative_prior_table

    # significant figures that tell median and limits apart, P as < 0.001 / > 0.999, whole ESS
    # (hazard_ratios.csv keeps every number at full precision)
    print(hazard_ratio_text(result.hazard_ratios(), result.spec.summaries.ci_prob))

    informed = informative_prior_table(result)
    if len(informed):
        print("priors from other studies (ESS in events; conflict with the data's Cox estimate):")
        cols = [
            "term",
            "prior_ess_events",
            "data_hr",
            "conflict_tail_p",
            "conflict_box_p",
            "robust_weight_prior",
            "robust_weight_posterior",
        ]
        print(informed[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    verdict = "passed" if diag.passed else "FAILED (see the warnings above and report.html)"
    print(f"diagnostics: {verdict}")
    print(f"wrote {out}/")
    return EXIT_OK if diag.passed else EXIT_DIAGNOSTICS_FAILED


REGISTRY: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_reproduce,
    _add_validate_data,
    _add_fit,
    add_orr,
    add_orr_oc,
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
    from necc_bayes.data.outputs import check_out_file
    from necc_bayes.errors import ArgumentError, Problem
    from necc_bayes.spec.settings import MAX_SEED
    from necc_bayes.studies.necc.synthetic.generate import DEFAULT_SEED, write_cohort

    seed = DEFAULT_SEED if args.seed is None else args.seed
    if not 0 <= seed <= MAX_SEED:
        msg = f"must be between 0 and {MAX_SEED:,}, got {seed}"
        raise ArgumentError("synthesize options", [Problem("option_range", msg, "--seed")])
    for flag in ("out", "truth", "calibration"):
        if getattr(args, flag):
            check_out_file(getattr(args, flag), option=f"--{flag}")
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

    from necc_bayes.inference.loo import ParetoKWarning, compare_dirs

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
REGISTRY += [add_sensitivity, add_sbc, add_cache]


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(  # usage errors exit 2, no traceback
        prog="necc-bayes",
        description="Bayesian survival (piecewise-exponential) and response-rate analysis of "
        "small clinical cohorts. Exit codes: 0 success, 2 bad input, 3 result written but "
        "diagnostics failed (fit, reproduce, sensitivity), 130 interrupted, 1 anything else.",
    )
    parser.add_argument("--version", action="version", version=f"necc-bayes {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in REGISTRY:
        add(sub)
    return parser


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    """Print a warning as one line on stderr: ``necc-bayes: Category: message``."""
    print(f"necc-bayes: {category.__name__}: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit code."""
    args = build_parser().parse_args(argv)
    limit_blas_threads()  # before numpy is imported (runtime.limit_blas_threads)
    if (getattr(args, "quiet", False) or args.command == "reproduce") and not logging.root.handlers:
        # PyMC logs "NUTS[nutpie]: [...]" for every fit unless the root logger is configured
        # before it is imported; --quiet (and reproduce's own progress display) replace those
        # lines. Warnings and errors still come through.
        logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    handler: Handler = args.func

    def call() -> int:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return handler(args)

    return run(call)


def console() -> None:
    """The installed ``necc-bayes`` script: :func:`main` in a process that ends with it.

    Calls :func:`main` with the command line, collector tuned for one short-lived run
    (:func:`~necc_bayes.cli.runtime.short_lived_gc`,
    :func:`~necc_bayes.cli.runtime.leave_objects_to_os`), and exits with its code. Code that
    calls :func:`main` in its own process (tests, notebooks) keeps its collector as it was.
    """
    short_lived_gc()
    code = main()
    leave_objects_to_os()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    console()
