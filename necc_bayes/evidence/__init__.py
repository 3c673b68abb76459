"""Evidence from other studies as priors: published estimates, MAP priors, ESS and conflict.

Sits above :mod:`necc_bayes.inference` and below the survival and response layers, which
build their priors from the mixtures defined here. Everything is closed form or quadrature
(no MCMC): see each module's docstring for the maths and its checks.

==============================  ===============================================================
module                          concept
==============================  ===============================================================
:mod:`.mixtures`                normal and beta mixtures as data; :func:`robustify`
:mod:`.conjugate`               posterior and prior predictive of a mixture prior
:mod:`.published`               ``HR (low–high)`` as printed -> prior on the log-HR
:mod:`.meta_normal`             MAP prior for a log-HR (normal–normal model, quadrature in tau)
:mod:`.meta_binomial`           MAP prior for a rate (binomial–normal, 2-D quadrature)
:mod:`.mixfit`                  EM compression of a MAP predictive to a few components
:mod:`.ess`                     effective sample size (ELIR, moment)
:mod:`.conflict`                prior–data conflict (tail probability, robust weight)
:mod:`.study_table`             reading a CSV / TOML table of study estimates
==============================  ===============================================================
"""

from necc_bayes.evidence.conflict import ConflictCheck, conflict_binomial, conflict_normal
from necc_bayes.evidence.conjugate import (
    binomial_predictive_pmf,
    normal_predictive,
    posterior_binomial,
    posterior_normal,
)
from necc_bayes.evidence.ess import LOG_HR_SIGMA_REF, ess
from necc_bayes.evidence.meta_binomial import BinomialMAP, map_binomial
from necc_bayes.evidence.meta_normal import NormalMAP, map_normal
from necc_bayes.evidence.mixfit import MixtureFit, fit_beta, fit_normal
from necc_bayes.evidence.mixtures import (
    ROBUST,
    BetaMixture,
    NormalMixture,
    beta_mixture,
    normal_mixture,
    robustify,
)
from necc_bayes.evidence.published import PublishedEstimate, log_hr_normal, published_prior
from necc_bayes.evidence.study_table import read_study_table

__all__ = [
    "LOG_HR_SIGMA_REF",
    "ROBUST",
    "BetaMixture",
    "BinomialMAP",
    "ConflictCheck",
    "MixtureFit",
    "NormalMAP",
    "NormalMixture",
    "PublishedEstimate",
    "beta_mixture",
    "binomial_predictive_pmf",
    "conflict_binomial",
    "conflict_normal",
    "ess",
    "fit_beta",
    "fit_normal",
    "log_hr_normal",
    "map_binomial",
    "map_normal",
    "normal_mixture",
    "normal_predictive",
    "posterior_binomial",
    "posterior_normal",
    "published_prior",
    "read_study_table",
    "robustify",
]
