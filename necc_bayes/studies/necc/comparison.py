"""Side-by-side tables: the paper's published numbers beside posteriors from the synthetic cohort.

Every table carries two provenance columns, ``paper_source`` and ``posterior_source``, so a
reader can never mistake a posterior computed on the SYNTHETIC cohort for a result of the
study. The paper's numbers come from :mod:`necc_bayes.studies.necc.published` (bundled Table 3
and text).
"""

from __future__ import annotations

import pandas as pd

from necc_bayes.studies.necc import published

PAPER_SOURCE = "published paper (Table 3)"
POSTERIOR_SOURCE = "necc-bayes posterior on the SYNTHETIC cohort (not study data)"
SYNTHETIC_LABEL = "SYNTHETIC cohort (not study data)"
"""The label of every table, figure and page computed from the bundled synthetic cohort."""


def table3_comparison(
    screen: pd.DataFrame,
    multivariable: pd.DataFrame,
    *,
    fragility: pd.DataFrame | None = None,
    multivariable_model: str = "prs_final",
) -> pd.DataFrame:
    """Put every Table 3 row beside the corresponding posterior hazard ratio.

    Parameters
    ----------
    screen : DataFrame
        Univariate posterior summaries with columns ``term, hr_median, hr_low, hr_high,
        p_hr_gt_1`` (and optionally ``n_used``, ``diagnostics_passed``).
    multivariable : DataFrame
        ``hazard_ratios.csv`` of the multivariable model matching the paper's final model.
    fragility : DataFrame, optional
        :func:`necc_bayes.data.fragility.fragility_table` output, merged on ``term``.
    multivariable_model : str
        Name of the model the multivariable rows come from.

    Returns
    -------
    DataFrame
        One row per Table 3 row (univariate and multivariable), paper columns first. The
        paper columns (``paper_hr, paper_low, paper_high, paper_p`` and the ``*_printed``
        columns) are the published text byte for byte (strings, e.g. ``"0.770"``); use
        :func:`necc_bayes.studies.necc.published.table3` for them as numbers.
    """
    t3 = published.table3(as_printed=True)
    keep = ["term", "hr_median", "hr_low", "hr_high", "p_hr_gt_1"]
    extra = [c for c in ("n_used", "n_imputed", "diagnostics_passed") if c in screen.columns]
    rows = []
    for model, post, model_name in (
        ("univariate", screen[keep + extra], "univariate screen"),
        ("multivariable", multivariable[keep], multivariable_model),
    ):
        part = t3[t3["model"] == model].merge(post, on="term", how="left")
        part["posterior_model"] = model_name
        rows.append(part)
    out = pd.concat(rows, ignore_index=True).sort_values(["row"], kind="stable")
    out = out.rename(
        columns={
            "hr": "paper_hr",
            "ci_low": "paper_low",
            "ci_high": "paper_high",
            "p": "paper_p",
            "hr_median": "posterior_hr_median",
            "hr_low": "posterior_hr_low",
            "hr_high": "posterior_hr_high",
            "p_hr_gt_1": "posterior_p_hr_gt_1",
        }
    )
    out["paper_source"] = PAPER_SOURCE
    out["posterior_source"] = POSTERIOR_SOURCE
    if fragility is not None:
        frag = fragility[["term", "flags", "cox_hr", "cox_low", "cox_high"]].rename(
            columns={
                "flags": "fragility_flags",
                "cox_hr": "synthetic_cox_hr",
                "cox_low": "synthetic_cox_low",
                "cox_high": "synthetic_cox_high",
            }
        )
        out = out.merge(frag, on="term", how="left")
    cols = [
        "row",
        "label_as_printed",
        "term",
        "model",
        "paper_hr",
        "paper_low",
        "paper_high",
        "paper_p",
        "paper_source",
        "posterior_hr_median",
        "posterior_hr_low",
        "posterior_hr_high",
        "posterior_p_hr_gt_1",
        "posterior_model",
        "posterior_source",
    ]
    return out[cols + [c for c in out.columns if c not in cols]].reset_index(drop=True)


def _pick(summary: pd.DataFrame, profile: str, quantity: str) -> pd.Series:
    hit = summary[(summary["profile"] == profile) & (summary["quantity"] == quantity)]
    return hit.iloc[0]


def group_prs_comparison(summary: pd.DataFrame, *, term: str = "site_abdominal") -> pd.DataFrame:
    """Median PRS, 3- and 5-year PRS by abdominal recurrence: paper beside posterior.

    Parameters
    ----------
    summary : DataFrame
        ``survival_summary.csv`` of a model whose only term is ``term`` (so the profiles
        ``term=1`` and ``term=0`` are the two groups), with ``surv_at_36`` and ``surv_at_60``.
    term : str
        The grouping term.

    Returns
    -------
    DataFrame
        ``group, quantity, paper_value, paper_source, posterior_median, posterior_low,
        posterior_high, posterior_source``. S(t) values are in percent.
    """
    paper = {
        ("1", "median_survival"): published.outcome("prs_median_abdominal_pos"),
        ("0", "median_survival"): published.outcome("prs_median_abdominal_neg"),
        ("1", "surv_at_36"): published.outcome("prs_3y_percent_abdominal_pos"),
        ("0", "surv_at_36"): published.outcome("prs_3y_percent_abdominal_neg"),
    }
    quantities = ("median_survival", "surv_at_36", "surv_at_60", "rmst_60")
    rows = []
    for group, profile in (
        (f"{term}=1", f"{term}=1"),
        (f"{term}=0", f"{term}=0"),
        (f"{term}=1 minus {term}=0", f"{term}=1 - {term}=0"),
    ):
        level = group[-1] if " minus " not in group else "diff"
        for quantity in quantities:
            post = _pick(summary, profile, quantity)
            percent = quantity.startswith("surv_at")
            unit = (" (% points)" if level == "diff" else " (%)") if percent else " (months)"
            scale = 100.0 if percent else 1.0
            rows.append(
                {
                    "group": group,
                    "quantity": quantity + unit,
                    "paper_value": paper.get((level, quantity)),
                    "paper_source": "published paper (Results text)"
                    if (level, quantity) in paper
                    else "not reported",
                    "posterior_median": post["median"] * scale,
                    "posterior_low": post["low"] * scale,
                    "posterior_high": post["high"] * scale,
                    "posterior_source": POSTERIOR_SOURCE,
                }
            )
    return pd.DataFrame(rows)
