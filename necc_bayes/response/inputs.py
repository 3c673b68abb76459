"""Parsing and validating the inputs of the response-rate comparison: priors and counts.

Prior syntax (``--prior`` on the command line, or a string in
:func:`necc_bayes.response.comparison.compare`). The same prior is used independently for each
arm unless a per-arm prior is given:

``uniform``
    Beta(1, 1) (the default).
``jeffreys``
    Beta(1/2, 1/2).
``beta:A,B``
    Beta(A, B), A, B > 0.
``skeptical:SD[,M]``
    A common Beta prior for *both* arms with mean ``M`` and standard deviation ``SD``; ``M``
    defaults to the pooled response rate of the two arms (the estimate of the common rate
    under "no difference"). Both arms are pulled towards the same centre by
    ``M(1-M)/SD^2 - 1`` pseudo-patients each, so the difference shrinks towards 0 -- more so
    in the smaller arm. Both shapes must be >= 1 (a unimodal prior that does not pile mass
    at 0 or 1 -- otherwise it would not be skeptical), i.e.
    ``0 < SD <= sqrt(M(1-M) m / (1 + m))`` with ``m = min(M, 1-M)``. The prior on
    ``p_t - p_c`` then has mean 0 and SD ``sqrt(2)·SD``. Caveats: the default centre uses the
    data (both arms pooled, as under the null; for operating characteristics give ``M``);
    and the prior also shrinks the *levels* of the two rates, not only their contrast (a
    prior on the log odds ratio would shrink only the contrast but has no closed-form
    posterior).
``mixture:A,B,W[,C,D]``
    Robust mixture ``W·Beta(A, B) + (1-W)·Beta(C, D)``, vague component Beta(1, 1) by
    default. Posterior weights are updated as in RBesT's ``postmix``.
``robust:SD[,W]``
    The robustified skeptical prior ``W·skeptical(SD) + (1-W)·Beta(1, 1)``, W = 0.5 by
    default: skeptical while the arms agree, falling back to the vague component under
    prior-data conflict.
``map:FILE[,W]``
    A meta-analytic-predictive (MAP) prior from other studies: ``FILE`` is a CSV or TOML table
    of studies (columns ``study, source, r, n``; see
    :func:`necc_bayes.evidence.study_table.read_study_table`). The binomial–normal model
    (``tau ~ HalfNormal(1)``, ``mu ~ Normal(0, 2)`` on the logit scale, as RBesT's ``gMAP``)
    gives the predictive rate of a new study, fitted by a beta mixture (EM, as RBesT's
    ``mixfit``); with ``W > 0`` it is robustified to ``(1-W)·MAP + W·Beta(1, 1)``. Typically
    given for one arm (``--prior-treated``).
``published:R/N[,W]``
    A prior from one published rate, ``R`` responders of ``N``: ``Beta(1 + R, 1 + N - R)``
    (that study's posterior under a uniform prior), robustified with ``W·Beta(1, 1)`` if
    ``W > 0``.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path

from necc_bayes.errors import DataError, Problem, SpecError
from necc_bayes.evidence import (
    BetaMixture,
    beta_mixture,
    fit_beta,
    map_binomial,
    read_study_table,
    robustify,
)
from necc_bayes.response import beta_binomial as bb

PRIOR_KINDS = ("uniform", "jeffreys", "beta", "skeptical", "mixture", "robust", "map", "published")
BUILTIN_PRIORS = ("uniform", "jeffreys", "skeptical:0.1", "robust:0.1,0.5")
"""Priors of the sensitivity table: vague, Jeffreys, skeptical (SD 0.1, about 19 pseudo-patients
per arm at the study's pooled rate 16/57) and its 50:50 robustified version."""
_ARITY = {
    "uniform": (0,),
    "jeffreys": (0,),
    "beta": (2,),
    "skeptical": (1, 2),
    "mixture": (3, 5),
    "robust": (1, 2),
    "map": (1, 2),
    "published": (1, 2),
}


@dataclass(frozen=True)
class PriorSpec:
    """A parsed prior, possibly needing the pooled rate to become a distribution.

    Parameters
    ----------
    kind : str
        One of :data:`PRIOR_KINDS`.
    params : tuple of float
        Numbers after the colon.
    text : str
        The text it was parsed from (shown in outputs).
    """

    kind: str
    params: tuple[float, ...]
    text: str
    path: str | None = None

    def resolve(self, pooled_rate: float, source: str = "--prior") -> BetaMixture:
        """Return the Beta mixture for one arm, given the pooled response rate of the data."""
        p = self.params
        if self.kind == "uniform":
            return bb.beta(1.0, 1.0, source)
        if self.kind == "jeffreys":
            return bb.beta(0.5, 0.5, source)
        if self.kind == "beta":
            return bb.beta(p[0], p[1], source)
        if self.kind == "mixture":
            c, d = (p[3], p[4]) if len(p) == 5 else (1.0, 1.0)
            return bb.mixture([(p[2], p[0], p[1]), (1.0 - p[2], c, d)], source)
        if self.kind == "map":
            return robustify(map_prior(str(self.path)), p[0] if p else 0.0)
        if self.kind == "published":
            r, n = int(p[0]), int(p[1])
            return robustify(
                beta_mixture([1.0], [1.0 + r], [1.0 + n - r], ["published"]),
                p[2] if len(p) == 3 else 0.0,
            )
        centre = p[1] if self.kind == "skeptical" and len(p) == 2 else pooled_rate
        a, b = skeptical_shapes(p[0], centre, source)
        if self.kind == "skeptical":
            return bb.beta(a, b, source)
        w = p[1] if len(p) == 2 else 0.5
        return bb.mixture([(w, a, b), (1.0 - w, 1.0, 1.0)], source)


@functools.lru_cache(maxsize=16)
def _map_prior_cached(path: str, stamp: tuple[int, int]) -> BetaMixture:
    table = read_study_table(path, kind="rate")
    mix = fit_beta(map_binomial(table["r"].tolist(), table["n"].tolist()).predictive_logit).mixture
    if not isinstance(mix, BetaMixture):  # fit_beta always returns beta components
        raise TypeError(f"expected a beta mixture, got {type(mix).__name__}")
    return BetaMixture(
        mix.weights, mix.a, mix.b, tuple(f"map{i + 1}" for i in range(mix.n_components))
    )


def map_prior(path: str) -> BetaMixture:
    """The MAP prior (beta mixture) of the response-rate study table at ``path``.

    Cached per file content stamp (size, modification time): ``--prior-treated`` and the
    sensitivity table compute it once.
    """
    st = Path(path).stat()
    return _map_prior_cached(str(path), (st.st_size, st.st_mtime_ns))


def skeptical_shapes(sd: float, centre: float, source: str = "--prior") -> tuple[float, float]:
    """Return Beta shapes ``(a, b)`` with mean ``centre`` and standard deviation ``sd``.

    Raises
    ------
    SpecError
        ``skeptical_centre_in_unit_interval`` unless ``0 < centre < 1``;
        ``skeptical_sd_feasible`` unless both shapes are >= 1, i.e.
        ``0 < sd <= sqrt(centre (1 - centre) m / (1 + m))`` with ``m = min(centre, 1 - centre)``.
    """
    if not 0.0 < centre < 1.0:
        msg = f"the skeptical prior's centre must be in (0, 1), got {centre:.4g}"
        if centre in (0.0, 1.0):
            msg += " (the pooled rate is 0 or 1: give the centre, skeptical:SD,M)"
        raise SpecError(source, [Problem("skeptical_centre_in_unit_interval", msg, source)])
    m = min(centre, 1.0 - centre)
    limit = math.sqrt(centre * (1.0 - centre) * m / (1.0 + m))
    if not 0.0 < sd <= limit * (1.0 + 1e-12):
        msg = (
            f"SD must be in (0, {limit:.4g}] for a unimodal Beta prior (both shapes >= 1) with "
            f"mean {centre:.4g}; got {sd}"
        )
        raise SpecError(source, [Problem("skeptical_sd_feasible", msg, source)])
    nu = centre * (1.0 - centre) / sd**2 - 1.0
    return centre * nu, (1.0 - centre) * nu


def parse_prior(text: str, source: str = "--prior") -> PriorSpec:
    """Parse prior text such as ``"beta:2,3"`` (see the module docstring for the syntax).

    Everything that does not depend on the data is validated here.

    Raises
    ------
    SpecError
        Rules ``prior_kind``, ``prior_arity``, ``prior_number`` and the shape/weight rules of
        :func:`necc_bayes.response.beta_binomial.mixture` and :func:`skeptical_shapes`.
    """
    kind, _, rest = text.strip().partition(":")
    kind = kind.strip().lower()
    if kind not in PRIOR_KINDS:
        hint = difflib.get_close_matches(kind, PRIOR_KINDS, n=1)
        msg = f"unknown prior {kind!r}; choose one of {', '.join(PRIOR_KINDS)}"
        msg += f" (did you mean {hint[0]!r}?)" if hint else ""
        raise SpecError(source, [Problem("prior_kind", msg, source)])
    fields = [f.strip() for f in rest.split(",")] if rest.strip() else []
    if kind in ("map", "published"):
        return _parse_evidence_prior(kind, fields, text, source)
    if len(fields) not in _ARITY[kind]:
        n_ok = " or ".join(str(k) for k in _ARITY[kind])
        msg = f"prior {kind!r} takes {n_ok} number(s) after ':', got {len(fields)}"
        raise SpecError(source, [Problem("prior_arity", msg, source)])
    try:
        params = tuple(float(f) for f in fields)
    except ValueError:
        msg = f"prior parameters must be numbers, got {rest!r}"
        raise SpecError(source, [Problem("prior_number", msg, source)]) from None
    if not all(math.isfinite(v) for v in params):
        msg = f"prior parameters must be finite, got {rest!r}"
        raise SpecError(source, [Problem("prior_number", msg, source)])
    spec = PriorSpec(kind, params, text.strip())
    weight = {"mixture": 2, "robust": 1}.get(kind)
    if weight is not None and len(params) > weight and not 0.0 <= params[weight] <= 1.0:
        msg = f"the weight W must be in [0, 1], got {params[weight]}"
        raise SpecError(source, [Problem("weight_in_unit_interval", msg, source)])
    if kind in ("skeptical", "robust"):
        if params[0] <= 0:
            msg = f"the skeptical SD must be > 0, got {params[0]}"
            raise SpecError(source, [Problem("skeptical_sd_feasible", msg, source)])
        if kind == "skeptical" and len(params) == 2:
            skeptical_shapes(params[0], params[1], source)
    else:
        spec.resolve(0.5, source)  # validates shapes and weights
    return spec


def _parse_evidence_prior(kind: str, fields: list[str], text: str, source: str) -> PriorSpec:
    """``map:FILE[,W]`` and ``published:R/N[,W]``: validated before any computation."""
    if len(fields) not in (1, 2) or not fields[0]:
        what = "FILE" if kind == "map" else "R/N"
        msg = f"prior {kind!r} takes {what} and an optional robust weight W, e.g. {kind}:{what},0.2"
        raise SpecError(source, [Problem("prior_arity", msg, source)])
    weight = 0.0
    if len(fields) == 2:
        try:
            weight = float(fields[1])
        except ValueError:
            weight = math.nan
        if not 0.0 <= weight < 1.0:
            msg = f"the robust weight W must be in [0, 1), got {fields[1]!r}"
            raise SpecError(source, [Problem("weight_in_unit_interval", msg, source)])
    if kind == "published":
        r, n = parse_counts(fields[0], source)
        return PriorSpec(kind, (float(r), float(n), weight), text.strip())
    path = Path(fields[0])
    if not path.is_file():
        raise DataError(str(path), [Problem("file_exists", "study table not found", source)])
    read_study_table(path, kind="rate")  # every problem of the table, before the MAP is computed
    return PriorSpec(kind, (weight,), text.strip(), str(path))


def parse_counts(text: str, source: str) -> tuple[int, int]:
    """Parse ``"X/N"`` (responders / assessed) and validate.

    Raises
    ------
    DataError
        Rules ``count_format``, ``assessed_positive``, ``responders_nonnegative``,
        ``responders_le_assessed``, ``assessed_max``.
    """
    m = re.fullmatch(r"\s*([+-]?\d+)\s*/\s*([+-]?\d+)\s*", text)
    if m is None:
        msg = f"expected responders/assessed as two integers, e.g. 7/16; got {text!r}"
        raise DataError(source, [Problem("count_format", msg, source)])
    return check_counts(int(m.group(1)), int(m.group(2)), source)


MAX_ASSESSED = 1_000_000
"""Largest number assessed per arm (issue 22: the quadrature corners are tested up to 10^6;
10^11 ran out of memory)."""


def check_counts(x: object, n: object, source: str) -> tuple[int, int]:
    """Validate responders ``x`` out of ``n`` assessed; report every broken rule."""
    problems: list[Problem] = []
    for value, name in ((x, "responders"), (n, "assessed")):
        if isinstance(value, bool) or (
            not isinstance(value, int) and not (isinstance(value, float) and value.is_integer())
        ):
            msg = f"{name} must be an integer, got {value!r}"
            problems.append(Problem("count_integer", msg, source))
    if problems:
        raise DataError(source, problems)
    xi, ni = int(x), int(n)  # type: ignore[call-overload]
    if ni <= 0:
        problems.append(Problem("assessed_positive", f"assessed must be > 0, got {ni}", source))
    if ni > MAX_ASSESSED:
        msg = (
            f"assessed must be at most {MAX_ASSESSED:,} (the range the exact quadrature is "
            f"tested on against mpmath), got {ni:,}"
        )
        problems.append(Problem("assessed_max", msg, source))
    if xi < 0:
        problems.append(
            Problem("responders_nonnegative", f"responders must be >= 0, got {xi}", source)
        )
    if xi > ni >= 0:
        msg = f"responders ({xi}) cannot exceed assessed ({ni})"
        problems.append(Problem("responders_le_assessed", msg, source))
    if problems:
        raise DataError(source, problems)
    return xi, ni
