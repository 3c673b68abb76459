"""Resolve the spec's evidence-based prior families into numbers (when a fit resolves its spec).

``dist = "map"`` names a table of other studies' printed hazard ratios; resolving it runs the
normal–normal MAP model (:func:`necc_bayes.evidence.meta_normal.map_normal`, quadrature over
tau), fits the predictive by a normal mixture (:func:`necc_bayes.evidence.mixfit.fit_normal`)
and robustifies it on request, giving the ``dist = "normal_mixture"`` prior that the model is
built from and that the resolved ``spec.toml`` records. ``dist = "published"`` and
``"normal_mixture"`` priors become :class:`~necc_bayes.evidence.mixtures.NormalMixture` with
:func:`as_mixture` (for ESS and conflict checks).
"""

from __future__ import annotations

from necc_bayes.evidence.meta_normal import map_normal
from necc_bayes.evidence.mixfit import fit_normal
from necc_bayes.evidence.mixtures import NormalMixture, normal_mixture, robustify
from necc_bayes.evidence.published import from_spec
from necc_bayes.evidence.study_table import read_study_table
from necc_bayes.spec.priors import MapPrior, NormalMixturePrior, PublishedPrior


def resolve_map(prior: MapPrior) -> NormalMixturePrior:
    """The ``normal_mixture`` prior a ``map`` prior stands for.

    Raises
    ------
    DataError
        If the study table is missing or breaks a rule (file, column, rows named).
    """
    table = read_study_table(prior.studies, kind="hr")
    result = map_normal(table["log_hr"].tolist(), table["se"].tolist(),
                        tau_scale=prior.tau_scale, mu_sd=prior.mu_sd)
    mix = fit_normal(result.predictive).mixture
    if not isinstance(mix, NormalMixture):  # fit_normal always returns normal components
        raise TypeError(f"expected a normal mixture, got {type(mix).__name__}")
    mix = robustify(mix, prior.robust_weight, mean=0.0, sigma=prior.vague_sigma)
    studies = ", ".join(str(s) for s in table["study"])
    labels = list(mix.labels) or [f"map{i + 1}" for i in range(mix.n_components)]
    return NormalMixturePrior(
        weights=list(mix.weights), mu=list(mix.mu), sigma=list(mix.sigma), labels=labels,
        source=(f"MAP prior from {prior.studies} ({studies}); tau ~ HalfNormal("
                f"{prior.tau_scale:g}), mu ~ Normal(0, {prior.mu_sd:g}); robust weight "
                f"{prior.robust_weight:g} on Normal(0, {prior.vague_sigma:g})"),
    )


def as_mixture(prior: object) -> NormalMixture | None:
    """The :class:`NormalMixture` of an evidence-based log-HR prior, or None for other families."""
    if isinstance(prior, PublishedPrior):
        return from_spec(prior)
    if isinstance(prior, NormalMixturePrior):
        return normal_mixture(prior.weights, prior.mu, prior.sigma, prior.labels)
    return None
