"""Spec pieces for real cohorts: delayed entry, strata and a shared frailty (DESIGN §8).

The keys are ``data.entry`` (:class:`~necc_bayes.spec.model.DataSection`),
``covariates.strata`` (:class:`~necc_bayes.spec.model.CovariateSection`) and the ``[frailty]``
table (:class:`FrailtySection`). This module holds the frailty section, the rules that give
each column one role, and the sentences the resolved spec and the reports print for the
features in use.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from necc_bayes.errors import Problem
from necc_bayes.spec.priors import DEFAULT_FRAILTY_SD, SDPrior

if TYPE_CHECKING:
    from necc_bayes.spec.model import ModelSpec


class FrailtySection(BaseModel):
    """A shared log-normal frailty per cluster.

    The hazard of a row in cluster ``c`` is multiplied by ``exp(b_c)``, with
    ``b_c = sd * z_c``, ``z_c ~ Normal(0, 1)`` (non-centred) and ``sd`` (posterior variable
    ``frailty_sd``) from the prior ``sd`` (default ``Exponential(rate = 1)``).

    Attributes
    ----------
    cluster : str
        Column naming the cluster of each row (e.g. a centre, a litter, or the subject id).
    sd : sd prior
        Prior of the frailty standard deviation ``frailty_sd``.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    cluster: str
    sd: SDPrior = DEFAULT_FRAILTY_SD


def role_problems(spec: ModelSpec) -> list[Problem]:
    """Rules on the columns given a role by ``data.entry``, ``covariates.strata``, ``[frailty]``.

    Each column has one role: the entry column is neither the time, the event nor a covariate;
    the strata column is no covariate or outcome column; the frailty cluster is no covariate,
    outcome or strata column (a frailty on the strata would duplicate the per-stratum
    baselines and is not identified). The cluster may be the id column (one frailty per
    subject, shared by its pieces).
    """
    d, terms = spec.data, set(spec.covariates.terms)
    out = []
    outcome: dict[str, str | None] = {"data.time": d.time, "data.event": d.event_column}
    if d.entry is not None:
        for key, col in outcome.items():
            if d.entry == col:
                out.append(Problem("entry_role", f"'{col}' is also {key}", column="data.entry"))
        if d.entry in terms:
            out.append(
                Problem("entry_role", f"'{d.entry}' is also a covariate", column="data.entry")
            )
    strata = spec.covariates.strata
    others = {**outcome, "data.entry": d.entry}
    if strata is not None:
        for key, col in others.items():
            if strata == col:
                out.append(
                    Problem("strata_role", f"'{col}' is also {key}", column="covariates.strata")
                )
        if strata in terms:
            out.append(
                Problem(
                    "strata_role",
                    f"'{strata}' is also a covariate: a stratified baseline already absorbs "
                    "its effect; list it in terms or in strata, not both",
                    column="covariates.strata",
                )
            )
    if spec.frailty is not None:
        cluster = spec.frailty.cluster
        for key, col in {**others, "covariates.strata": strata}.items():
            if cluster == col:
                out.append(
                    Problem("frailty_role", f"'{col}' is also {key}", column="frailty.cluster")
                )
        if cluster in terms:
            out.append(
                Problem(
                    "frailty_role", f"'{cluster}' is also a covariate", column="frailty.cluster"
                )
            )
    return out


def cohort_conventions(spec: ModelSpec) -> list[str]:
    """Return one sentence per cohort feature in use (delayed entry, strata, frailty).

    These conventions change the answer, so the resolved spec, the fit report and the
    reproduce report state them; empty for right-censored data with one baseline.
    """
    out = []
    d = spec.data
    if d.entry is not None:
        out.append(
            f"delayed entry: each row is at risk on ({d.entry}, {d.time}] only (left "
            "truncation); survival curves, medians and RMST are conditional on surviving to "
            "the earliest entry time"
        )
        if d.id is not None:
            out.append(
                f"rows with the same {d.id} (if any) are (start, stop] pieces of one "
                "subject's follow-up (covariates may change between pieces; curves are for "
                "fixed covariate paths)"
            )
    if spec.covariates.strata is not None:
        out.append(
            f"strata: one baseline hazard per level of {spec.covariates.strata}; hazard ratios "
            "are shared across strata; curves per stratum"
        )
    if spec.frailty is not None:
        out.append(
            f"frailty: log-frailty per {spec.frailty.cluster} ~ Normal(0, frailty_sd), "
            f"frailty_sd ~ {spec.frailty.sd}; hazard ratios are conditional on the cluster, "
            "curves are given both at frailty 0 and population-averaged"
        )
    return out


NO_COHORT_FEATURES = "none (one row per subject at risk from time 0, one baseline, no frailty)"


def cohort_features_attr(spec: ModelSpec) -> str:
    """:func:`cohort_conventions` as one string (``posterior.nc`` attribute ``cohort_features``).

    The sentences joined by ``"; "``, or :data:`NO_COHORT_FEATURES` when none is in use.
    """
    return "; ".join(cohort_conventions(spec)) or NO_COHORT_FEATURES


def comment_lines(sentences: list[str], width: int = 95) -> str:
    """The sentences as ``# - ...`` TOML comment lines wrapped at ``width`` characters."""
    out = []
    for sentence in sentences:
        lines = textwrap.wrap(sentence + ".", width - 4)
        out.append("# - " + lines[0])
        out += ["#   " + line for line in lines[1:]]
    return "".join(line + "\n" for line in out)
