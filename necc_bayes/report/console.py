"""Text and notebook rendering of a model before sampling and of a fit (plain data in).

The descriptions come from :mod:`necc_bayes.survival.describe`; here they become the text of
``print(model)`` / ``print(result)`` and the compact HTML a notebook shows. Numbers follow
:mod:`necc_bayes.report.numbers`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from markupsafe import Markup, escape

from necc_bayes.report.numbers import ess, hr_triplet, prob, rhat, sig


def hazard_ratio_rows(hr: pd.DataFrame, ci_prob: float = 0.95) -> pd.DataFrame:
    """The hazard-ratio table as formatted text columns (term, HR, interval, P(HR>1), ...)."""
    rows = []
    for r in hr.to_dict("records"):
        med, low, high = hr_triplet(float(r["hr_median"]), float(r["hr_low"]), float(r["hr_high"]))
        row = {
            "term": r["term"],
            "HR": med,
            f"{ci_prob:.0%} CrI": f"{low}–{high}",
            "P(HR>1)": prob(float(r["p_hr_gt_1"])),
            "R-hat": rhat(float(r["r_hat"])),
            "ESS bulk": ess(float(r["ess_bulk"])),
        }
        if "sd_ratio" in hr.columns:
            flag = " prior-dominated" if bool(r["prior_dominated"]) else ""
            row["post/prior SD"] = sig(float(r["sd_ratio"]), 2) + flag
        rows.append(row)
    return pd.DataFrame(rows)


def hazard_ratio_text(hr: pd.DataFrame, ci_prob: float = 0.95) -> str:
    """The hazard-ratio table as aligned text."""
    return hazard_ratio_rows(hr, ci_prob).to_string(index=False)


def _terms_text(terms: list[dict[str, str]]) -> list[str]:
    width = max([len(t["term"]) for t in terms] + [4])
    out = []
    for t in terms:
        out.append(f"  {t['term']:<{width}}  {t['prior']}   [{t['coding']}]")
    return out


def prepared_text(d: dict[str, Any]) -> str:
    """``print(model)``: title, data, intervals, terms with their priors, warnings."""
    lines = [d["title"], *d["lines"]]
    if d["terms"]:
        lines.append("log-HR priors (per unit of each term as coded):")
        lines += _terms_text(d["terms"])
    else:
        lines.append("no covariates (baseline hazard only)")
    lines += [f"{name}: {p}" for name, p in d["other_priors"]]
    if d["warnings"]:
        lines.append("warnings:")
        lines += [f"  - {w}" for w in d["warnings"]]
    else:
        lines.append("fragility checks: no term flagged")
    return "\n".join(lines)


def result_text(d: dict[str, Any]) -> str:
    """``print(result)``: the model lines, the diagnostics verdict and the hazard ratios."""
    lines = [d["title"], d["lines"][0], d["lines"][1], d["diagnostics"]]
    lines += [f"  - {f}" for f in d["failures"]]
    if len(d["hazard_ratios"]):
        lines.append(hazard_ratio_text(d["hazard_ratios"], d["ci_prob"]))
    priors = sorted({t["prior"] for t in d["terms"]})
    if priors:
        lines.append("log-HR priors: " + "; ".join(priors))
    lines += [f"{name}: {p}" for name, p in d["other_priors"]]
    if d["warnings"]:
        lines.append("warnings:")
        lines += [f"  - {w}" for w in d["warnings"]]
    return "\n".join(lines)


def _html_table(df: pd.DataFrame) -> Markup:
    head = "".join(f"<th>{escape(c)}</th>" for c in df.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>"
        for row in df.itertuples(index=False)
    )
    return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _html_list(items: list[str]) -> Markup:
    return Markup("<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>")


def prepared_html(d: dict[str, Any]) -> str:
    """The notebook view of a model before sampling."""
    out = Markup(f"<div><strong>{escape(d['title'])}</strong>") + _html_list(d["lines"])
    if d["terms"]:
        out += _html_table(pd.DataFrame(d["terms"]))
    out += _html_list([f"{n}: {p}" for n, p in d["other_priors"]])
    if d["warnings"]:
        out += Markup("<p><strong>Warnings</strong></p>") + _html_list(d["warnings"])
    return str(out + Markup("</div>"))


def result_html(d: dict[str, Any]) -> str:
    """The notebook view of a fit: header, verdict, hazard ratios, priors, warnings."""
    out = Markup(f"<div><strong>{escape(d['title'])}</strong>")
    out += _html_list([d["lines"][0], d["lines"][1], d["diagnostics"], *d["failures"]])
    if len(d["hazard_ratios"]):
        out += _html_table(hazard_ratio_rows(d["hazard_ratios"], d["ci_prob"]))
    priors = sorted({t["prior"] for t in d["terms"]})
    out += _html_list(["log-HR priors: " + "; ".join(priors)] if priors else [])
    out += _html_list([f"{n}: {p}" for n, p in d["other_priors"]])
    if d["warnings"]:
        out += Markup("<p><strong>Warnings</strong></p>") + _html_list(d["warnings"])
    return str(out + Markup("</div>"))
