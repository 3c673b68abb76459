"""The study example of issue 20: other studies' published estimates as informative priors.

Three analyses of the final model side by side -- weakly informative (models/prs_final.toml),
informed by published hazard ratios (models/prs_final_informed.toml) and the same robustified
(models/prs_final_robust.toml) -- and, for the ICI response rate, a meta-analytic-predictive
(MAP) prior from published trials of immune checkpoint inhibitors in neuroendocrine
carcinoma. Every borrowed number is real and cited (``data/literature``); the NECC cohort
the priors are combined with is SYNTHETIC, so the tables show *how a conclusion moves* when
evidence is borrowed, not the study's results.

For each informed term the tables give the prior (as printed and as converted), its effective
sample size in events (ELIR), the current data's own estimate (a Cox fit of the same two terms
on the synthetic cohort, Breslow ties), the prior-data conflict checks against it, and the
posterior under each of the three priors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from necc_bayes.data.bundled import bundled_path
from necc_bayes.data.reference import cox_breslow
from necc_bayes.evidence import (
    BetaMixture,
    conflict_binomial,
    ess,
    fit_beta,
    map_binomial,
    read_study_table,
    robustify,
)
from necc_bayes.evidence.published import from_spec
from necc_bayes.report.evidence_figures import DensityPanel
from necc_bayes.spec.priors import PublishedPrior
from necc_bayes.studies.necc.comparison import SYNTHETIC_LABEL

if TYPE_CHECKING:
    from necc_bayes.studies.necc.context import Context
    from necc_bayes.survival.fit import PEMResult

ANALYSES = {
    "weakly informative": "prs_final",
    "informed": "prs_final_informed",
    "robust": "prs_final_robust",
}
"""Analysis label -> model in ``models/``."""
ORR_STUDIES = "data/literature/response_rates.csv"
ORR_SUBSETS = {
    "all ICI studies in NEC (6)": None,
    "PD-1 monotherapy only (4)": "pd1_monotherapy",
}
ORR_ROBUST_WEIGHT = 0.2


def data_estimates(result: PEMResult) -> dict[str, tuple[float, float]]:  # for the figure
    """The current data's own log-HR and SE per term: a Cox fit of the model's terms."""
    cohort = result.checked.cohort
    cox = cox_breslow(cohort.time, cohort.event, cohort.design.X, entry=cohort.entry)
    return {t: (float(cox.beta[k]), float(cox.se[k])) for k, t in enumerate(cohort.design.terms)}


def _ci(values: tuple[float, float, float]) -> str:
    return f"{values[0]:.3g} ({values[1]:.3g}–{values[2]:.3g})"


def prior_table(fits: dict[str, PEMResult]) -> pd.DataFrame:
    """One row per (informed term, analysis): the prior, its ESS and the conflict checks.

    The numbers are :func:`necc_bayes.survival.informative_priors.informative_prior_table`
    of each informed fit (what ``necc-bayes fit`` prints and the fit report shows), with the
    published HR as printed beside them.
    """
    from necc_bayes.survival.informative_priors import informative_prior_table

    frames = []
    for label in ("informed", "robust"):
        result = fits[ANALYSES[label]]
        table = informative_prior_table(result)
        printed = []
        for term in table["term"]:
            p = result.spec.priors.terms[term]
            printed.append(f"{p.hr:g} ({p.low:g}–{p.high:g})" if isinstance(p, PublishedPrior)
                           else "")
        table.insert(1, "analysis", label)
        table.insert(2, "published HR (95% CI), as printed", printed)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def comparison_table(fits: dict[str, PEMResult]) -> pd.DataFrame:
    """Posterior HR per term under each analysis, and whether the conclusion moves."""
    rows = []
    for label, model in ANALYSES.items():
        hr = fits[model].hazard_ratios().set_index("term")
        for term, r in hr.iterrows():
            rows.append({
                "term": term,
                "analysis": label,
                "model": model,
                "HR median (95% CrI)": _ci((r["hr_median"], r["hr_low"], r["hr_high"])),
                "hr_median": r["hr_median"],
                "hr_low": r["hr_low"],
                "hr_high": r["hr_high"],
                "P(HR > 1)": r["p_hr_gt_1"],
                "CrI excludes 1": bool(r["hr_low"] > 1 or r["hr_high"] < 1),
            })
    table = pd.DataFrame(rows)
    moved = table.groupby("term")["CrI excludes 1"].transform(lambda s: s.nunique() > 1)
    return table.assign(**{"conclusion moves": moved})


def density_panels(fits: dict[str, PEMResult]) -> list[DensityPanel]:
    """Plain data for the figure: prior, likelihood and posteriors of each informed term.

    Prior: the published mixtures (informed and robust). Likelihood: the normal
    approximation ``Normal(y, se)`` of the data's own Cox estimate. Posteriors: Gaussian
    kernel density estimates of the log-HR draws of the three fits.
    """
    estimates = data_estimates(fits["prs_final"])
    panels = []
    for term, prior in fits["prs_final_informed"].spec.priors.terms.items():
        if not isinstance(prior, PublishedPrior):
            continue
        robust = fits["prs_final_robust"].spec.priors.terms[term]
        if not isinstance(robust, PublishedPrior):
            raise TypeError(f"{term}: prs_final_robust must use a published prior too")
        y, se = estimates[term]
        grid = np.linspace(min(y - 4 * se, prior.mu - 4 * prior.sigma, -0.5),
                           max(y + 4 * se, prior.mu + 4 * prior.sigma, 1.5), 600)
        curves = {
            "prior (informed)": from_spec(prior).pdf(grid),
            f"prior (robust, w={robust.robust_weight:g})": from_spec(robust).pdf(grid),
            "likelihood (Cox, normal approx.)": stats.norm.pdf(grid, y, se),
        }
        for label, model in ANALYSES.items():
            draws = fits[model].idata["posterior"]["log_hr"].sel(term=term).to_numpy().ravel()
            curves[f"posterior {label}"] = stats.gaussian_kde(draws)(grid)
        panels.append(DensityPanel(
            title=f"{term}: prior from {prior.source}", log_hr=grid, curves=curves,
            note=f"prior ESS {ess(from_spec(prior)):.0f} events (informed), "
                 f"{ess(from_spec(robust)):.0f} (robust)"))
    return panels


def _map_prior(table: pd.DataFrame) -> BetaMixture:
    mix = fit_beta(map_binomial(table["r"].tolist(), table["n"].tolist()).predictive_logit).mixture
    if not isinstance(mix, BetaMixture):
        raise TypeError(f"expected a beta mixture, got {type(mix).__name__}")
    return mix


def orr_table(treated: tuple[int, int], control: tuple[int, int]) -> pd.DataFrame:
    """The ICI arm's response rate under uniform, MAP and robust MAP priors (control uniform).

    MAP: binomial–normal model of the published ICI trials in NEC (``tau ~ HalfNormal(1)``,
    ``mu ~ Normal(0, 2)``, RBesT's defaults), predictive fitted by a beta mixture; robust:
    ``0.8·MAP + 0.2·Beta(1, 1)``.
    """
    from necc_bayes.response.comparison import compare

    studies = read_study_table(bundled_path(ORR_STUDIES), kind="rate")
    priors: dict[str, tuple[str, BetaMixture | str]] = {"uniform": ("uniform", "uniform")}
    for name, cls in ORR_SUBSETS.items():
        chosen = studies if cls is None else studies[studies["treatment_class"] == cls]
        mix = _map_prior(chosen)
        priors[f"MAP: {name}"] = (", ".join(chosen["study"]), mix)
        priors[f"robust MAP (w={ORR_ROBUST_WEIGHT:g}): {name}"] = (
            ", ".join(chosen["study"]), robustify(mix, ORR_ROBUST_WEIGHT))
    rows = []
    for label, (used, prior) in priors.items():
        res = compare(treated, control, prior_treated=prior)
        arm = res.treated
        check = conflict_binomial(arm.prior, *treated) if label != "uniform" else None
        rows.append({
            "ICI-arm prior": label,
            "studies": used,
            "prior mean": arm.prior.mean(),
            "prior 95% interval": "{:.3f}–{:.3f}".format(*arm.prior.interval(0.95)),
            "prior ESS (patients)": arm.prior_ess,
            "conflict tail p": np.nan if check is None else check.tail_p,
            "conflict Box p": np.nan if check is None else check.box_p,
            "robust weight posterior": np.nan if check is None else check.robust_weight_posterior,
            "ICI posterior mean": arm.mean,
            "ICI 95% CrI": f"{arm.low:.3f}–{arm.high:.3f}",
            "P(p_ICI > p_non-ICI)": res.p_treated_better,
            "difference (95% CrI)": f"{res.diff_mean:+.3f} ({res.diff_low:+.3f}, "
                                    f"{res.diff_high:+.3f})",
        })
    return pd.DataFrame(rows)


def step_evidence(ctx: Context) -> None:
    """Reproduce step: fit the informed and robust models, tabulate, sweep, plot.

    Needs ``ctx.fits["prs_final"]`` (the weakly informative fit). Adds the two fits to
    ``ctx.fits`` (so the diagnostics summary covers them) and the tables ``evidence_priors``,
    ``evidence_comparison``, ``evidence_robust_weight`` and ``evidence_orr``, and the figure
    ``figures/evidence_priors.png``.
    """
    import warnings

    from necc_bayes.errors import (
        ConvergenceWarning,
        ProportionalHazardsWarning,
        SparseDataWarning,
    )
    from necc_bayes.report.evidence_figures import plot_density_panels
    from necc_bayes.studies.necc import published
    from necc_bayes.survival.fit import fit
    from necc_bayes.survival.save import write_fit_files
    from necc_bayes.workflows.sensitivity.sweeps import sensitivity_analysis

    overrides = {"draws": ctx.draws, "chains": ctx.chains}
    for model in ("prs_final_informed", "prs_final_robust"):
        kinds = (ConvergenceWarning, SparseDataWarning, ProportionalHazardsWarning)
        with warnings.catch_warnings(record=True) as caught:
            for kind in kinds:
                warnings.simplefilter("always", kind)
            result = fit(bundled_path(f"models/{model}.toml"), ctx.cohort_path,
                         overrides=overrides, progressbar=False)
        ctx.notes += [f"{model}: {w.message}" for w in caught if issubclass(w.category, kinds)]
        ctx.fits[model] = result
        out = ctx.out / "fits" / model
        out.mkdir(parents=True, exist_ok=True)
        write_fit_files(result, out, data_label=SYNTHETIC_LABEL)
    fits = {m: ctx.fits[m] for m in ANALYSES.values()}
    ctx.tables["evidence_priors"] = prior_table(fits)
    comparison = comparison_table(fits)
    ctx.tables["evidence_comparison"] = comparison
    ctx.notes += [f"evidence: the conclusion on {t} moves with the prior (CrI excludes 1 under "
                  "some analyses, not others)"
                  for t in comparison.loc[comparison["conclusion moves"], "term"].unique()]
    sweep = sensitivity_analysis(ctx.fits["prs_final_robust"], sweeps=("robust_weight",),
                                 sampler=ctx.fits["prs_final_robust"].spec.sampler)
    ctx.tables["evidence_robust_weight"] = sweep.table
    # the paper's ORR comparison: 7/16 (ICI) vs 9/41 (non-ICI patients assessed by imaging)
    ctx.tables["evidence_orr"] = orr_table(
        published.table5_counts("final"), published.non_ici_counts()
    )
    figures = ctx.out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    plot_density_panels(
        density_panels(fits), figures / "evidence_priors.png", label=SYNTHETIC_LABEL
    )
