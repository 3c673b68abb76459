"""The main job: the full Bayesian re-analysis of the study on the bundled SYNTHETIC cohort.

``run_reproduce(out)`` fits every model in ``models/`` that the re-analysis needs, compares the
posteriors with the paper's published numbers (Table 3, the PRS medians and 3-year PRS, the
ORR), reports small-sample fragility and sensitivity, and writes every table, figure and
``report.html`` into ``out`` — all at once (a failure leaves no partial directory).
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from necc_bayes._runstate import announce, raise_if_interrupted
from necc_bayes.data.bundled import bundled_path
from necc_bayes.data.fragility import fragility_table
from necc_bayes.data.outputs import check_out_dir, write_atomically
from necc_bayes.errors import ConvergenceWarning, ProportionalHazardsWarning, SparseDataWarning
from necc_bayes.inference.loo import ParetoKWarning, compare_fits
from necc_bayes.report.figures import label_figure
from necc_bayes.report.orr_figures import plot_operating_characteristics
from necc_bayes.report.sweep_figures import save
from necc_bayes.response.comparison import compare, prior_sensitivity
from necc_bayes.response.operating_characteristics import decision_matrix, oc_curves, oc_table
from necc_bayes.spec.settings import SamplerSettings
from necc_bayes.studies.necc import published
from necc_bayes.studies.necc.cohort_steps import step_inclusion_rule, step_ttr
from necc_bayes.studies.necc.comparison import (
    SYNTHETIC_LABEL,
    group_prs_comparison,
    table3_comparison,
)
from necc_bayes.studies.necc.context import Context
from necc_bayes.studies.necc.evidence import step_evidence
from necc_bayes.studies.necc.missing_step import step_missing
from necc_bayes.studies.necc.ph_step import step_ph
from necc_bayes.studies.necc.report import render_reproduce_report
from necc_bayes.survival.fit import PEMResult, fit
from necc_bayes.survival.sampling import package_versions
from necc_bayes.survival.save import write_fit_files
from necc_bayes.workflows.screen import univariate_screen
from necc_bayes.workflows.sensitivity.sweeps import sensitivity_analysis

COHORT = "data/synthetic/necc_synthetic_cohort.csv"
MODELS = [
    "prs_final",
    "prs_multivariable",
    "prs_sites_hierarchical",
    "prs_by_abdominal",
    "prs_by_sites",
    "prs_count_ordinal",
]
TABLE3_TERMS = published.table3_terms()


def step_fragility(ctx: Context) -> None:
    """Sparse cells and separation for every Table 3 covariate, with the synthetic Cox fit."""
    table = fragility_table(ctx.cohort, TABLE3_TERMS, time="prs_months", event="death")
    ctx.tables["fragility"] = table
    for row in table.itertuples():
        if "separation" in str(row.flags):
            ctx.notes.append(
                f"{row.term}: separation ({row.n_0} vs {row.n_1} patients, "
                f"{row.events_0} vs {row.events_1} deaths) - no finite Cox estimate "
                f"(synthetic Cox HR {row.cox_hr:.3g}, "
                f"95% CI {row.cox_low:.3g}-{row.cox_high:.3g}); "
                "its posterior is prior-dominated"
            )


def step_fits(ctx: Context) -> None:
    """Fit the multivariable, hierarchical and group models; write each fit's files."""
    overrides = {"draws": ctx.draws, "chains": ctx.chains}
    for name in MODELS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            warnings.simplefilter("always", SparseDataWarning)
            warnings.simplefilter("always", ProportionalHazardsWarning)
            result = fit(
                bundled_path(f"models/{name}.toml"),
                ctx.cohort_path,
                overrides=overrides,
                progressbar=False,
            )
        ctx.notes += [
            f"{name}: {w.message}"
            for w in caught
            if issubclass(
                w.category, ConvergenceWarning | SparseDataWarning | ProportionalHazardsWarning
            )
        ]
        ctx.fits[name] = result
        write_fit_files(result, _mkdir(ctx.out / "fits" / name), data_label=SYNTHETIC_LABEL)


def step_screen(ctx: Context) -> None:
    """Univariate screen: one PEM per Table 3 covariate (missing values modelled)."""
    sampler = None
    if ctx.draws or ctx.chains:
        sampler = SamplerSettings(
            draws=ctx.draws or 1000, tune=ctx.draws or 1000, chains=ctx.chains or 4
        )
    # covariates with N/A are fitted on all 88 patients with their missing values modelled
    # (issue 19), the complete ones as they are
    ctx.tables["screen"] = univariate_screen(
        bundled_path("models/prs_final.toml"),
        ctx.cohort_path,
        TABLE3_TERMS,
        sampler=sampler,
        missing="model",
    )


def step_comparisons(ctx: Context) -> None:
    """Table 3 and the PRS group numbers beside the posteriors; site/count trade-off."""
    final = ctx.fits["prs_final"].hazard_ratios()
    ctx.tables["table3_comparison"] = table3_comparison(
        ctx.tables["screen"], final, fragility=ctx.tables.get("fragility")
    )
    ctx.tables["prs_by_abdominal"] = group_prs_comparison(
        ctx.fits["prs_by_abdominal"].survival_summary(), term="site_abdominal"
    )
    ctx.tables["prs_by_sites"] = ctx.fits["prs_by_sites"].survival_summary()
    ctx.tables["site_count_correlation"] = posterior_correlation(
        ctx.fits["prs_sites_hierarchical"], "n_sites_gt1"
    )

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ParetoKWarning)
        table = compare_fits(
            {
                "count binary (>1 vs 1): prs_final": ctx.fits["prs_final"].idata,
                "count monotone ordinal (1, 2, 3+): prs_count_ordinal": ctx.fits[
                    "prs_count_ordinal"
                ].idata,
            }
        )
    ctx.notes += [f"LOO: {w.message}" for w in caught if issubclass(w.category, ParetoKWarning)]
    ctx.tables["count_model_comparison"] = table.reset_index(names="model")


def posterior_correlation(result: PEMResult, term: str) -> pd.DataFrame:
    """Posterior correlation of one term's log-HR with every other term's log-HR."""
    post = result.idata["posterior"]["log_hr"].stack(s=("chain", "draw"))
    terms = [str(t) for t in post["term"].to_numpy()]
    draws = post.transpose("term", "s").to_numpy()
    corr = np.corrcoef(draws)
    k = terms.index(term)
    return (
        pd.DataFrame({"term": terms, f"corr_with_{term}": corr[k]})
        .query("term != @term")
        .reset_index(drop=True)
    )


ORR_DELTA = 0.1
"""Margin of the reported P(p_ICI - p_non-ICI > delta)."""
PUBLISHED_ONLY = ("orr_priors", "orr_definitions", "orr_oc", "evidence_orr")
"""Tables computed from the published counts alone (no synthetic data): no SYNTHETIC label."""


def orr_counts(definition: str = "final") -> tuple[tuple[int, int], tuple[int, int]]:
    """``(treated, control)`` as ``(responders, assessed)``: ICI (Table 5) and non-ICI (text).

    Both denominators are patients assessed for response (16 and 41), never the number of
    patients in a group (``non_ici_patients``: 53, of whom 12 were not assessed by imaging).
    """
    return published.table5_counts(definition), published.non_ici_counts()


def _counts_text(counts: tuple[int, int]) -> str:
    return f"{counts[0]}/{counts[1]}"


def orr_counts_note(treated: tuple[int, int], control: tuple[int, int]) -> str:
    """Which counts the response-rate comparison uses, and why (orr.json and the report)."""
    patients = int(published.outcome("non_ici_patients"))
    return (
        "final-status responders among the patients assessed by imaging (responder = CR or "
        f"PR), as in the paper: ICI {_counts_text(treated)} from Table 5, non-ICI "
        f"{_counts_text(control)} from the Results text ({control[1]} of the {patients} "
        f"patients without a PD-1 inhibitor were assessed; {patients - control[1]} were not, "
        f"so {patients} is not a denominator)"
    )


def step_orr(ctx: Context) -> None:
    """ICI vs non-ICI objective response from the published counts (no synthetic data).

    Every built-in prior (``orr_priors``), both responder definitions (``orr_definitions``:
    final status, the paper's, and best response), and the operating characteristics of the
    decision rule at the assessed arm sizes (``orr_oc``).
    """
    treated, control = orr_counts("final")
    counts = {"treated": _counts_text(treated), "control": _counts_text(control)}
    table = prior_sensitivity(treated, control, delta=ORR_DELTA)
    table.insert(1, "treated", counts["treated"])
    table.insert(2, "control", counts["control"])
    table.insert(3, "delta", ORR_DELTA)
    table.insert(4, "interval_prob", 0.95)
    ctx.tables["orr_priors"] = table
    keep = ["prior", "p_treated_better", "p_diff_gt_delta", "diff_mean", "diff_low", "diff_high"]
    rows = []
    for definition in published.RESPONSE_DEFINITIONS:
        arm, _ = orr_counts(definition)
        part = prior_sensitivity(arm, control, delta=ORR_DELTA)[keep]
        part.insert(0, "definition", definition)
        part.insert(1, "treated", _counts_text(arm))
        part.insert(2, "control", counts["control"])
        part.insert(3, "delta", ORR_DELTA)
        rows.append(part)
    ctx.tables["orr_definitions"] = pd.concat(rows, ignore_index=True)
    dm = decision_matrix(treated[1], control[1])
    ctx.tables["orr_oc"] = oc_table(dm=dm)
    ctx.orr_counts_note = orr_counts_note(treated, control)
    main = compare(treated, control, delta=ORR_DELTA).to_dict()
    main["counts"] = {**counts, "definition": ctx.orr_counts_note}
    (ctx.out / "orr.json").write_text(json.dumps(main, indent=2), encoding="utf-8")
    plot_operating_characteristics(
        oc_curves(dm),
        _mkdir(ctx.out / "figures") / "orr_operating_characteristics.png",
        label="arm sizes = patients assessed (published counts)",
    )


REPRODUCE_SAMPLER = SamplerSettings(draws=1000, tune=500, chains=2)
"""Refit settings of the sweeps in ``reproduce``: about 0.2 s per warm refit here."""


def step_sensitivity(ctx: Context) -> None:
    """Prior-scale, baseline, cut-point and case-deletion sweeps of the final model.

    The default sweeps, with deletion of the 5 patients with the largest Pareto k, refitted
    with :data:`REPRODUCE_SAMPLER` (two compilations in all: the integrated-out gamma model
    and the random-walk baseline; about 30 s on 2 cores).
    """
    report = sensitivity_analysis(ctx.fits["prs_final"], sampler=REPRODUCE_SAMPLER, quiet=True)
    tables = {
        "sensitivity": report.table,
        "flags": report.flags,
        "psense": report.psense,
        "pareto_k": report.pareto_k,
        "case_deletion": report.case_deletion,
        "partition_prior": report.partition_prior,
    }
    for name, table in tables.items():
        key = name if name == "sensitivity" else f"sensitivity_{name}"
        ctx.tables[key] = table
    fig = label_figure(
        report.figure(), f"Sensitivity of the final model prs_final — {SYNTHETIC_LABEL}"
    )
    save(fig, str(_mkdir(ctx.out / "figures") / "sensitivity.png"))
    ctx.notes += [
        f"sensitivity: conclusion changes across settings for {c}"
        for c in report.flags[report.flags["conclusion_changes"]]
        .apply(lambda r: f"{r['sweep']}: {r['term']}", axis=1)
        .tolist()
    ]


DIAGNOSTICS_COLUMNS = [
    "model", "passed", "max_r_hat", "min_ess_bulk", "min_ess_tail", "n_divergent", "min_bfmi",
    "failures",
]  # fmt: skip


def step_diagnostics(ctx: Context) -> None:
    """One row per fitted model: did it pass, and the worst numbers."""
    rows = []
    for name, result in ctx.fits.items():
        d = result.diagnostics()
        rows.append(
            {
                "model": name,
                "passed": d.passed,
                "max_r_hat": d.max_r_hat,
                "min_ess_bulk": d.min_ess_bulk,
                "min_ess_tail": d.min_ess_tail,
                "n_divergent": d.n_divergent,
                "min_bfmi": d.min_bfmi,
                "failures": "; ".join(d.failures),
            }
        )
    ctx.tables["diagnostics_summary"] = pd.DataFrame(rows, columns=DIAGNOSTICS_COLUMNS)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


STEPS: list[tuple[str, Callable[[Context], None]]] = [
    ("fragility: sparse cells and separation", step_fragility),
    ("fitting the multivariable, hierarchical and group models", step_fits),
    ("univariate screen (compiled once per model structure)", step_screen),
    ("comparing with the paper", step_comparisons),
    ("proportional hazards of the final and multivariable models", step_ph),
    ("the multivariable model on all patients (missing covariates modelled)", step_missing),
    ("the 60-day inclusion rule: PRS with and without delayed entry", step_inclusion_rule),
    ("time to recurrence by lung recurrence", step_ttr),
    ("objective response rates", step_orr),
    ("sensitivity sweeps of the final model (compile once)", step_sensitivity),
    ("evidence from other studies as priors (informed, robust, MAP)", step_evidence),
    ("diagnostics summary", step_diagnostics),
]


def failed_diagnostics(out: str | Path) -> list[tuple[str, str]]:
    """``(model, failures)`` of every fit in ``out`` whose diagnostics failed.

    Read from the ``diagnostics_summary.csv`` that :func:`run_reproduce` wrote (what the user
    sees), so the command's exit code follows the file (3 if any model failed, DESIGN §8).
    """
    table = pd.read_csv(Path(out) / "diagnostics_summary.csv", keep_default_na=False)
    failed = table[~table["passed"].astype(str).isin(["True", "true", "1"])]
    return [(str(r.model), str(r.failures)) for r in failed.itertuples()]


def _write_tables(ctx: Context) -> None:
    """Every table as CSV; those computed from the cohort say so in a ``data_source`` column."""
    for name, table in ctx.tables.items():
        labelled = name in PUBLISHED_ONLY or {"posterior_source", "data_source"} & set(table)
        out = table if labelled else table.assign(data_source=SYNTHETIC_LABEL)
        out.to_csv(ctx.out / f"{name}.csv", index=False)
    meta = {
        "data": COHORT,
        "data_is_synthetic": True,
        "warning": "All posteriors are computed on a SYNTHETIC cohort generated to match the "
        "study's published tables; they are not the study's results.",
        "timings_seconds": ctx.timings,
        "notes": ctx.notes,
        "models": {
            n: {"spec_hash": r.idata.attrs.get("spec_hash"), "seed": r.spec.sampler.seed}
            for n, r in ctx.fits.items()
        },
        "package_versions": package_versions(),
    }
    (ctx.out / "reproduce.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


def run_reproduce(
    out: str | Path,
    *,
    overwrite: bool = False,
    quiet: bool = False,
    draws: int | None = None,
    chains: int | None = None,
) -> Path:
    """Run the re-analysis and write every table and figure to ``out``.

    Parameters
    ----------
    out : str or Path
        Output directory (must be new or empty unless ``overwrite``).
    overwrite : bool
        Replace a non-empty ``out``.
    quiet : bool
        No progress display.
    draws, chains : int, optional
        Override every model's sampler settings (e.g. for a quick run in tests).

    Returns
    -------
    Path
        The output directory.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    check_out_dir(out, overwrite=overwrite)
    cohort_path = bundled_path(COHORT)

    def writer(tmp: Path) -> None:
        ctx = Context(out=tmp, cohort_path=cohort_path, draws=draws, chains=chains)
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, disable=quiet, transient=False) as progress:
            for label, step in STEPS:
                task = progress.add_task(label, total=1)
                start = time.perf_counter()
                raise_if_interrupted()  # a Ctrl-C a library swallowed: stop, not 20 min on
                announce(step.__name__)  # test-only phase hook (_runstate)
                try:
                    step(ctx)
                except Exception as exc:  # say which step; the partial directory is removed
                    exc.add_note(
                        f"reproduce step {label!r} ({step.__name__}) failed; no result was "
                        f"written ({out} was left as it was)"
                    )
                    raise
                ctx.timings[step.__name__] = round(time.perf_counter() - start, 2)
                progress.update(task, completed=1)
        _write_tables(ctx)

        (tmp / "report.html").write_text(render_reproduce_report(ctx), encoding="utf-8")

    return write_atomically(out, writer, overwrite=overwrite)
