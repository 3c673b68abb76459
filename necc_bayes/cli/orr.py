"""Command-line parsing of ``necc-bayes orr`` and ``necc-bayes orr-oc`` (registered in cli)."""

from __future__ import annotations

import argparse

from necc_bayes.errors import EXIT_OK

_PRIOR_HELP = (
    "uniform (Beta(1,1), default) | jeffreys (Beta(1/2,1/2)) | beta:A,B | "
    "skeptical:SD[,M] (common Beta for both arms, mean M = pooled rate unless given, sd SD) | "
    "mixture:A,B,W[,C,D] (W*Beta(A,B) + (1-W)*Beta(C,D), C,D = 1,1 by default; weights "
    "updated as RBesT postmix) | robust:SD[,W] (W*skeptical(SD) + (1-W)*Beta(1,1), W=0.5: "
    "here W weighs the informative part) | "
    "map:FILE[,W] (MAP prior from a CSV/TOML table of studies: study, source, r, n; "
    "robustified to (1-W)*MAP + W*Beta(1,1): here W weighs the vague part) | "
    "published:R/N[,W] (Beta(1+R, 1+N-R), robustified as map: W on Beta(1,1))"
)


def add_orr(sub: argparse._SubParsersAction) -> None:
    """Register ``orr``: compare two response rates (exact beta-binomial)."""
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

    from necc_bayes.data.outputs import FIGURE_SUFFIXES, check_out_file
    from necc_bayes.errors import ArgumentError, Problem
    from necc_bayes.response.comparison import (
        BUILTIN_PRIORS,
        compare,
        format_sensitivity,
        prior_sensitivity,
    )
    from necc_bayes.response.inputs import parse_counts, parse_prior
    from necc_bayes.studies.necc.published import non_ici_counts, table5_counts

    if args.plot:
        if args.all_priors:
            msg = "--plot draws one comparison; it cannot be combined with --all-priors"
            raise ArgumentError("orr options", [Problem("option_conflict", msg, "--plot")])
        check_out_file(args.plot, option="--plot", suffixes=FIGURE_SUFFIXES)
    if args.from_table5:
        treated = table5_counts(args.definition)
        control = (
            non_ici_counts() if args.control is None else parse_counts(args.control, "--control")
        )
    else:
        given = (("--treated", args.treated), ("--control", args.control))
        missing = [name for name, value in given if not value]
        if missing:
            msg = f"{' and '.join(missing)} required (X/N), or use --from-table5"
            raise ArgumentError("orr options", [Problem("counts_required", msg)])
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
        from necc_bayes.data.outputs import write_file_atomically
        from necc_bayes.report.orr_figures import plot_posteriors

        curves = result.curves()
        write_file_atomically(args.plot, lambda tmp: plot_posteriors(curves, tmp))
    return EXIT_OK


def add_orr_oc(sub: argparse._SubParsersAction) -> None:
    """Register ``orr-oc``: operating characteristics of the ORR decision rule."""
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


MAX_OC_OUTCOMES = 250_000
"""Most outcome pairs ``(n_treated + 1) x (n_control + 1)`` that ``orr-oc`` enumerates: each is
one exact posterior probability (about 0.5 ms), so 250,000 take about 2 minutes; 10^8 x 41
asked for 31 GiB and failed."""


def _check_oc_args(args: argparse.Namespace) -> None:
    """Every ``orr-oc`` option, checked before the decision matrix is computed."""
    import math

    from necc_bayes.data.outputs import FIGURE_SUFFIXES, check_out_file
    from necc_bayes.errors import ArgumentError, Problem

    problems: list[Problem] = []
    for flag, n in (("--n-treated", args.n_treated), ("--n-control", args.n_control)):
        if n < 1:
            problems.append(Problem("assessed_positive", f"arm size must be >= 1, got {n}", flag))
    if not problems and (args.n_treated + 1) * (args.n_control + 1) > MAX_OC_OUTCOMES:
        msg = (
            f"exact enumeration over (n_treated + 1) x (n_control + 1) = "
            f"{(args.n_treated + 1) * (args.n_control + 1):,} outcomes; at most "
            f"{MAX_OC_OUTCOMES:,} (about 2 minutes)"
        )
        problems.append(Problem("option_range", msg, "--n-treated/--n-control"))
    for flag, values, ok, rule, name in (
        ("--threshold", args.threshold, lambda v: 0 < v < 1, "must be in (0, 1)",
         "threshold_range"),
        ("--p-control", args.p_control, lambda v: 0 <= v <= 1, "must be in [0, 1]",
         "rate_in_unit_interval"),
        ("--steps", args.steps, lambda v: -1 <= v <= 1, "must be in [-1, 1]", "option_range"),
    ):  # fmt: skip
        bad = [v for v in values if not (math.isfinite(v) and ok(v))]
        if bad:
            problems.append(Problem(name, f"{rule}, got {bad}", flag))
    rows = [pc + st for pc in args.p_control for st in args.steps]
    if not problems and not any(-1e-12 <= pt <= 1 + 1e-12 for pt in rows):
        msg = "no p_control + step lies in [0, 1]: the table would have no row"
        problems.append(Problem("option_range", msg, "--steps"))
    if problems:
        raise ArgumentError("orr-oc options", problems)
    if args.csv:
        check_out_file(args.csv, option="--csv")
    if args.plot:
        check_out_file(args.plot, option="--plot", suffixes=FIGURE_SUFFIXES)


def _run_orr_oc(args: argparse.Namespace) -> int:
    from necc_bayes.data.outputs import write_file_atomically
    from necc_bayes.response.inputs import parse_prior
    from necc_bayes.response.operating_characteristics import (
        decision_matrix,
        format_oc_table,
        oc_curves,
        oc_table,
    )

    _check_oc_args(args)
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
        write_file_atomically(args.csv, lambda tmp: table.to_csv(tmp, index=False))
    if args.plot:
        from necc_bayes.report.orr_figures import plot_operating_characteristics

        curves = oc_curves(dm, args.threshold, args.p_control)
        write_file_atomically(args.plot, lambda tmp: plot_operating_characteristics(curves, tmp))
    return EXIT_OK
