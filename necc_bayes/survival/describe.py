"""What a model and a fit say about themselves, as plain data for :mod:`necc_bayes.report.console`.

:func:`model_description` is what ``print(nb.prepare(...))`` shows before sampling (data,
intervals, terms and how each is coded, every resolved prior, the summaries, fragility);
:func:`result_description` adds what ``print(result)`` shows after it (the diagnostics
verdict and the hazard-ratio table).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from necc_bayes.data.fragility import Fragility
from necc_bayes.spec.model import ModelSpec
from necc_bayes.survival.inputs import Checked
from necc_bayes.survival.resolve import categorical_groups

if TYPE_CHECKING:
    from necc_bayes.survival.result import PEMResult


def _unit(spec: ModelSpec) -> str:
    return f" {spec.data.time_unit}" if spec.data.time_unit else ""


def _term_notes(spec: ModelSpec, checked: Checked) -> dict[str, str]:
    design = checked.cohort.design
    refs = {c: levels[0] for c, levels in categorical_groups(checked).items()}
    sds = spec.priors.term_sd or {}
    out = {}
    for k, (term, source, binary) in enumerate(
        zip(design.terms, design.source, design.binary, strict=True)
    ):
        if source in refs and term.startswith(f"{source}["):
            out[term] = f"level of {source} vs reference {refs[source]}"
        elif binary:
            out[term] = f"0/1 ({int(design.X[:, k].sum())} of {design.X.shape[0]} rows = 1)"
        else:
            sd = float(np.std(design.X[:, k], ddof=1))
            scale = f"; prior per SD = {sds[term]:.3g} units" if term in sds else ""
            out[term] = f"continuous, per unit (mean {design.means[k]:.3g}, sd {sd:.3g}{scale})"
    return out


def model_description(
    spec: ModelSpec, checked: Checked, fragility: Fragility, prior_messages: list[str]
) -> dict[str, Any]:
    """Plain data describing a resolved model before sampling.

    Returns
    -------
    dict
        ``title``, ``lines`` (data, intervals, summaries, sampler), ``terms`` (term, coding,
        prior rows), ``other_priors`` (baseline, groups), ``warnings`` (fragility and prior
        scale messages), ``fragility`` (the per-term table).
    """
    cohort, unit = checked.cohort, _unit(spec)
    n = cohort.n_subjects
    rows = f" ({cohort.n} rows)" if cohort.n != n else ""
    t = cohort.time
    cuts = ", ".join(f"{c:g}" for c in checked.cuts)
    s, samp = spec.summaries, spec.sampler
    profiles = [p.name for p in s.profiles or []]
    lines = [
        f"data: {cohort.source}: {n} subjects{rows}, {cohort.n_events} events; follow-up "
        f"{t.min():g} to {t.max():g}{unit} (median {np.median(t):g})",
        f"intervals: {len(checked.cuts) + 1} (cuts at {cuts}{unit})" if cuts else "intervals: 1",
        f"summaries: S(t) at {', '.join(f'{x:g}' for x in s.times or [])}{unit}; RMST to "
        f"{s.rmst_horizon:g}{unit}; {s.ci_prob:.0%} equal-tailed intervals",
        f"profiles: {', '.join(profiles[:8])}" + (" ..." if len(profiles) > 8 else "")
        + " (other categorical columns at their reference, other terms at their means)",
        f"sampler: {samp.chains} chains x {samp.draws} draws (+{samp.tune} tuning), seed "
        f"{samp.seed}, {samp.sampler}",
    ]
    notes = _term_notes(spec, checked)
    grouped = {t: g for g, grp in spec.priors.groups.items() for t in grp.terms}
    terms = [
        {
            "term": term,
            "coding": notes[term],
            "prior": f"group {grouped[term]}" if term in grouped else str(spec.priors.terms[term]),
        }
        for term in cohort.design.terms
    ]
    other = [("baseline", str(spec.priors.baseline))]
    other += [(f"group {g}", str(p)) for g, p in spec.priors.groups.items()]
    if spec.priors.scale == "per_sd":
        other.append(("priors.scale", "per_sd: the default log-HR prior is per SD of each "
                                      "continuous term (divided by its SD above)"))
    title = f"necc-bayes model '{spec.name}'" + (f": {spec.formula}" if spec.formula else "")
    return {
        "title": title,
        "lines": lines,
        "terms": terms,
        "other_priors": other,
        "warnings": [*fragility.messages(), *prior_messages],
        "fragility": fragility.table,
    }


def result_description(result: PEMResult) -> dict[str, Any]:
    """Plain data describing a fit: the model description, diagnostics and hazard ratios."""
    out = model_description(result.spec, result.checked, result.fragility(),
                            result.prior_messages())
    diag = result.diagnostics()
    verdict = "passed" if diag.passed else "FAILED"
    out["title"] = out["title"].replace("necc-bayes model", "necc-bayes fit", 1)
    out["diagnostics"] = (
        f"diagnostics {verdict}: max R-hat {diag.max_r_hat:.3f}, min bulk ESS "
        f"{diag.min_ess_bulk:.0f}, min tail ESS {diag.min_ess_tail:.0f}, "
        f"{diag.n_divergent} divergent transitions"
    )
    out["failures"] = list(diag.failures)
    flagged = result.ph_check().flagged
    if flagged:
        out["warnings"] = [
            *out["warnings"],
            f"proportional-hazards check flagged {', '.join(flagged)} (ph_check.csv; consider "
            "covariates.time_varying)",
        ]
    out["hazard_ratios"] = result.hazard_ratios()
    out["ci_prob"] = result.spec.summaries.ci_prob
    return out
