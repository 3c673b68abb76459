"""Simulation-based calibration (SBC) of a PEM specification, compile-once and resumable.

For simulation ``i`` (seeded by ``SeedSequence([seed, i])``, so any simulation can be redone
alone):

1. draw the parameters from the **prior** of the resolved specification — log-HRs from each
   term's prior family, baseline rates from the baseline prior (hyperparameters as resolved on
   the real data, e.g. ``Gamma(1, 1/crude rate)``; fixed for every simulation);
2. simulate a cohort with the **real design** (the spec's covariates, coded as fitted), the
   **real entry times** (delayed entry: event times given survival to entry), the real strata
   (one baseline drawn per stratum) and clusters (log-frailties drawn from the frailty prior:
   ``frailty_sd`` and the first cluster's frailty are ranked too), and the
   **real censoring pattern** (:func:`necc_bayes.survival.replicates.draw_censoring_times`: censored
   patients
   keep their follow-up as censoring time, the censoring time of patients who died is drawn
   from the reverse Kaplan–Meier given it exceeds their death time); event times by exact
   inversion of the piecewise-exponential cumulative hazard; the **cut points** are the ones
   the fit used; with ``missing = "model"`` the incomplete covariates are drawn from their
   models' priors and the **real missingness pattern** applied (:mod:`.missing`);
3. fit it with the model compiled once (:mod:`necc_bayes.survival.refit`) and record, for every
   log-HR and baseline rate, the rank of the true value among ``n_ranks - 1`` posterior draws
   thinned evenly across chains.

Ranks are appended to ``sbc_ranks.jsonl`` as each simulation completes; a restart with the same
settings skips the simulations already there (``sbc_meta.json`` records the settings; other
settings are refused). A line cut short by a killed run is ignored and ended, so the next
record starts a line of its own; the meta file, summary and figure are each written whole
(through a renamed sibling). Uniformity is judged by :mod:`necc_bayes.workflows.sbc.stats`: a
parameter fails
when its ECDF-test p-value is below ``0.05 / number of parameters`` (Bonferroni: a calibrated
model fails any parameter with probability <= 5%).

``simuk`` (installed) was considered: it samples each simulation with ``pm.sample`` on an
observed-RV model, which recompiles per simulation and does not fit the ``pm.Potential``
likelihood; the rank loop here is a few lines on top of the compile-once path.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from necc_bayes.data.outputs import write_file_atomically
from necc_bayes.errors import DataError, Problem, SpecError
from necc_bayes.report.sweep_figures import SBCCurves, plot_sbc, save
from necc_bayes.spec.settings import SamplerSettings
from necc_bayes.survival.fit import model_inputs, model_priors, resolve_spec
from necc_bayes.survival.inputs import check_inputs
from necc_bayes.survival.intervals import expand
from necc_bayes.survival.model import PEMInputs, PEMPriors, interval_labels
from necc_bayes.survival.prior_sample import sample_prior
from necc_bayes.survival.refit import process_cache
from necc_bayes.survival.replicates import draw_censoring_times, simulate_event_times
from necc_bayes.workflows.executor import RunStats, progress, run_tasks
from necc_bayes.workflows.sbc.missing import draw_incomplete_covariates, with_real_pattern
from necc_bayes.workflows.sbc.stats import (
    ecdf_difference,
    simultaneous_band,
    uniformity_tests,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RANKS_FILE = "sbc_ranks.jsonl"
META_FILE = "sbc_meta.json"
SUMMARY_FILE = "sbc_summary.csv"
FIGURE_FILE = "sbc_ecdf.png"
SBC_FILES = (META_FILE, RANKS_FILE, SUMMARY_FILE, FIGURE_FILE)
"""Every file :func:`run_sbc` (and so ``necc-bayes sbc``) writes into its directory."""
DEFAULT_SBC_SAMPLER = SamplerSettings(draws=500, tune=500, chains=2, cores=None)


@dataclass(frozen=True)
class SBCSetup:
    """What every simulation shares (picklable)."""

    inputs: PEMInputs
    priors: PEMPriors
    seed: int
    sampler: SamplerSettings = DEFAULT_SBC_SAMPLER
    n_ranks: int = 100

    def __post_init__(self) -> None:
        inputs = self.inputs
        if np.unique(inputs.subject_ids).size < inputs.X.shape[0]:
            raise SpecError(
                "sbc",
                [
                    Problem(
                        "sbc_pieces",
                        "SBC of (start, stop] pieces is not supported: simulating a subject's "
                        "follow-up would need its covariate path after the observed one",
                    )
                ],
            )

    def parameter_names(self) -> list[str]:
        """Column names of the ranks.

        ``log_hr[term]``, then ``baseline_hazard[interval]`` (``baseline_hazard[stratum,
        interval]`` per stratum with strata), then ``frailty_sd`` and the first cluster's
        ``frailty[cluster]`` with a frailty.
        """
        inputs = self.inputs
        labels = interval_labels(inputs.pp)
        names = [f"log_hr[{t}]" for t in inputs.terms]
        if inputs.strata is not None:
            names += [
                f"baseline_hazard[{s}, {lab}]" for s in inputs.strata_labels for lab in labels
            ]
        else:
            names += [f"baseline_hazard[{lab}]" for lab in labels]
        if inputs.clusters is not None:
            names += ["frailty_sd", f"frailty[{inputs.cluster_labels[0]}]"]
        return names

    def meta(self) -> dict[str, Any]:
        """The settings a resumed run must share (written to ``sbc_meta.json``)."""
        out = {
            "seed": self.seed,
            "n_ranks": self.n_ranks,
            "sampler": self.sampler.model_dump() | {"cores": None},
            "terms": list(self.inputs.terms),
            "cuts": [float(c) for c in self.inputs.pp.cuts],
            "priors": {t: str(p) for t, p in self.priors.coefficients.items()}
            | {"baseline": str(self.priors.baseline)}
            | ({"frailty_sd": str(self.priors.frailty_sd)} if self.priors.frailty_sd else {})
            | {f"group{g}": str(grp) for g, grp in enumerate(self.priors.groups)},
            "n_subjects": int(self.inputs.X.shape[0]),
        }
        if self.inputs.strata is not None:  # keys only when used (older runs resume)
            out["strata"] = list(self.inputs.strata_labels)
        if self.inputs.clusters is not None:
            out["clusters"] = len(self.inputs.cluster_labels)
        if self.inputs.imputation is not None:
            out["missing"] = {m.term: int(np.isnan(self.inputs.X[:, m.column]).sum())
                              for m in self.inputs.imputation.models}
        return out


def draw_prior(priors: PEMPriors, inputs: PEMInputs, rng) -> tuple[np.ndarray, np.ndarray]:
    """One draw of (log-HRs in term order, baseline rates) from the priors, in numpy.

    :func:`necc_bayes.survival.prior_sample.sample_prior`: each prior family's own numpy sampler,
    mirroring :func:`~necc_bayes.survival.model.build_model` (SBC is the check that the two
    agree).
    """
    draw = sample_prior(inputs, priors, rng, 1)
    return draw.log_hr[0], draw.baseline[0]


def simulate_inputs(
    setup: SBCSetup,
    beta: np.ndarray,
    lam: np.ndarray,
    rng,
    *,
    frailty: np.ndarray | None = None,
) -> PEMInputs:
    """A cohort with the setup's design, entry, strata, clusters and censoring pattern.

    Parameters
    ----------
    setup : SBCSetup
        The real design (rows, covariates, entry times, strata, clusters, censoring).
    beta : ndarray, shape (p,)
        True log-HRs.
    lam : ndarray, shape (J,) or (S, J)
        True baseline rates (per stratum with strata).
    rng : numpy.random.Generator
        Source of randomness.
    frailty : ndarray, shape (C,), optional
        True log-frailty of every cluster (models with a frailty).
    """
    inputs = setup.inputs
    X, pp, imp = inputs.X, inputs.pp, inputs.imputation
    if imp is not None:  # modelled missing covariates: drawn, then the real pattern deleted
        full = draw_incomplete_covariates(X, imp, rng)
        X = full - imp.means
        X_obs, imp = with_real_pattern(full, inputs.X, imp, list(inputs.terms))
    bounds, entry = pp.bounds, pp.entry
    rates = lam[None, :] if lam.ndim == 1 else lam[np.asarray(inputs.strata)][None, :, :]
    offset = None if frailty is None else frailty[np.asarray(inputs.clusters)][None, :]
    t_event = simulate_event_times(
        rates, beta[None, :], X, bounds, rng, entry=entry, offset=offset
    )[0]
    c = draw_censoring_times(inputs.time, pp.event, 1, rng, entry=entry)[0]
    time = np.minimum(t_event, c)
    event = (t_event <= c).astype(np.int64)
    # the prior's last interval ends where the observed cohort's does (the prior the truth was
    # drawn from), whatever the simulated follow-up
    pp_sim = expand(time, event, pp.cuts, entry=entry, horizon=pp.follow_up_max)
    out = replace(inputs, pp=pp_sim)
    return out if imp is None else replace(out, X=X_obs, imputation=imp)


@dataclass(frozen=True)
class SBCTask:
    """One simulation."""

    setup: SBCSetup
    index: int


def run_simulation(task: SBCTask) -> dict[str, Any]:
    """Draw, simulate, fit and rank one simulation; a JSON-ready record."""
    setup = task.setup
    start = time.perf_counter()
    ss = np.random.SeedSequence([int(setup.seed), int(task.index)])
    prior_ss, data_ss, fit_ss = ss.spawn(3)
    truth_draw = sample_prior(setup.inputs, setup.priors, np.random.default_rng(prior_ss), 1)
    beta, lam = truth_draw.log_hr[0], truth_draw.baseline[0]
    frailty = None if truth_draw.frailty is None else truth_draw.frailty[0]
    inputs = simulate_inputs(setup, beta, lam, np.random.default_rng(data_ss), frailty=frailty)
    fit_seed = int(fit_ss.generate_state(1)[0] % (2**31))
    idata = process_cache().sample(
        inputs, setup.priors, seed=fit_seed, settings=setup.sampler, post_process=False
    )
    post = idata["posterior"]
    base = post["baseline_hazard"]
    base = base.transpose("chain", "draw", *[d for d in ("stratum", "interval") if d in base.dims])
    parts = [
        post["log_hr"].transpose("chain", "draw", "term").to_numpy(),
        base.to_numpy().reshape(*base.shape[:2], -1),  # stratum-major, as parameter_names
    ]
    truths = [beta, lam.ravel()]
    if frailty is not None and truth_draw.frailty_sd is not None:
        parts += [
            post["frailty_sd"].transpose("chain", "draw").to_numpy()[:, :, None],
            post["frailty"].transpose("chain", "draw", "cluster").to_numpy()[:, :, :1],
        ]
        truths += [truth_draw.frailty_sd[:1], frailty[:1]]
    draws = np.concatenate(parts, axis=2)
    truth = np.concatenate(truths)
    thinned = thin(draws, setup.n_ranks - 1)
    ranks = (thinned < truth[None, :]).sum(axis=0)
    names = setup.parameter_names()
    return {
        "index": task.index,
        "ranks": dict(zip(names, (int(r) for r in ranks), strict=True)),
        "truth": dict(zip(names, (float(v) for v in truth), strict=True)),
        "n_events": int(inputs.pp.event.sum()),
        "n_divergent": int(idata["sample_stats"]["diverging"].sum()),
        "seconds": time.perf_counter() - start,
    }


def thin(draws: np.ndarray, n: int) -> np.ndarray:
    """``n`` draws spread evenly over chains and iterations of ``(chain, draw, param)``."""
    chains, n_draw = draws.shape[:2]
    per_chain = -(-n // chains)
    if per_chain > n_draw:
        raise ValueError(f"cannot thin {chains} x {n_draw} draws to {n} (need more draws)")
    idx = np.linspace(0, n_draw - 1, per_chain).round().astype(int)
    return draws[:, idx, :].reshape(chains * per_chain, -1)[:n]


def load_records(out: Path, meta: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """Records already in ``out`` (empty if none); refuse a directory of other settings.

    A truncated last line (a crash while writing) is ignored.
    """
    meta_path, ranks_path = out / META_FILE, out / RANKS_FILE
    if meta_path.is_file():
        try:
            old = json.loads(meta_path.read_text())
        except json.JSONDecodeError:
            msg = "is not valid JSON (a run killed while writing it?): use another --out"
            raise DataError(str(meta_path), [Problem("sbc_resume", msg)]) from None
        if old != json.loads(json.dumps(meta)):
            raise DataError(
                str(meta_path),
                [Problem("sbc_resume", "this directory holds SBC results of other settings")],
            )
    records: dict[int, dict[str, Any]] = {}
    if ranks_path.is_file():
        for line in ranks_path.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            records[int(rec["index"])] = rec
    return records


@dataclass
class SBCResult:
    """Ranks and uniformity tests of an SBC run.

    Attributes
    ----------
    ranks : DataFrame
        One row per simulation (index), one column per parameter.
    records : DataFrame
        Per simulation: ``n_events``, ``n_divergent``, ``seconds``.
    tests : DataFrame
        Per parameter: ``p_ecdf``, ``p_chisq``, ``failed`` (ECDF p < 0.05 / parameters).
    n_ranks : int
        Possible rank values.
    seconds : float
        Wall time of this call (simulations resumed from disk cost nothing).
    stats : RunStats
        Scheduler, simulations run now, compilations, workers.
    """

    ranks: pd.DataFrame
    records: pd.DataFrame
    tests: pd.DataFrame
    n_ranks: int
    seconds: float
    stats: RunStats

    @property
    def passed(self) -> bool:
        """Whether no parameter failed."""
        return not bool(self.tests["failed"].any())

    def curves(self, prob: float = 0.95) -> SBCCurves:
        """ECDF differences per parameter and their simultaneous ``prob`` band."""
        z, lower, upper = simultaneous_band(len(self.ranks), self.n_ranks, prob=prob)
        return SBCCurves(
            z=z,
            lower=lower,
            upper=upper,
            curves={
                str(p): ecdf_difference(self.ranks[p].to_numpy(), self.n_ranks)
                for p in self.ranks.columns
            },
            n_sims=len(self.ranks),
        )

    def figure(self) -> Figure:
        """ECDF-difference plot with simultaneous 95% bands."""
        return plot_sbc(self.curves())


def run_sbc(
    setup: SBCSetup,
    n_sims: int,
    out: str | Path,
    *,
    scheduler: Any = "serial",
    n_workers: int | None = None,
    quiet: bool = True,
) -> SBCResult:
    """Run (or resume) ``n_sims`` simulations, appending each one's ranks to ``out``.

    Parameters
    ----------
    setup : SBCSetup
        Design, priors, cuts, seed and sampler settings.
    n_sims : int
        Simulations wanted in total (those already in ``out`` are not redone).
    out : path
        Directory (created if needed) for :data:`SBC_FILES`: ``sbc_meta.json`` (settings),
        ``sbc_ranks.jsonl`` (appended as each simulation completes), then ``sbc_summary.csv``
        (the uniformity tests) and ``sbc_ecdf.png`` (the ECDF-difference figure).
    scheduler, n_workers
        See :func:`necc_bayes.workflows.executor.run_tasks`.
    quiet : bool
        No progress display.

    Returns
    -------
    SBCResult
        Ranks of simulations ``0 .. n_sims - 1`` and their tests.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta = setup.meta()
    done = load_records(out, meta)
    text = json.dumps(meta, indent=2)
    write_file_atomically(out / META_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    _end_truncated_line(out / RANKS_FILE)
    todo = [SBCTask(setup, i) for i in range(n_sims) if i not in done]
    stats = RunStats(scheduler="")
    start = time.perf_counter()
    with (
        open(out / RANKS_FILE, "a", encoding="utf-8") as fh,
        progress(n_sims, "SBC simulations", quiet=quiet) as advance,
    ):
        for _ in range(n_sims - len(todo)):
            advance()

        def record(_i: int, rec: dict[str, Any]) -> None:
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            done[int(rec["index"])] = rec
            advance()

        run_tasks(
            run_simulation,
            todo,
            scheduler=scheduler,
            n_workers=n_workers,
            on_result=record,
            stats=stats,
        )
    seconds = time.perf_counter() - start
    recs = [done[i] for i in range(n_sims)]
    names = setup.parameter_names()
    ranks = pd.DataFrame([r["ranks"] for r in recs], index=[r["index"] for r in recs])[names]
    info = pd.DataFrame(
        [{k: r[k] for k in ("index", "n_events", "n_divergent", "seconds")} for r in recs]
    ).set_index("index")
    result = SBCResult(
        ranks=ranks,
        records=info,
        tests=uniformity_tests(ranks, setup.n_ranks),
        n_ranks=setup.n_ranks,
        seconds=seconds,
        stats=stats,
    )
    write_file_atomically(out / SUMMARY_FILE, lambda tmp: result.tests.to_csv(tmp, index=False))
    fig = result.figure()
    write_file_atomically(out / FIGURE_FILE, lambda tmp: save(fig, str(tmp)))
    return result


def _end_truncated_line(path: Path) -> None:
    """End a last line cut short by a killed run, so the next record starts a line of its own."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as fh:
        fh.seek(-1, 2)
        if fh.read(1) != b"\n":
            fh.write(b"\n")


def setup_from_spec(
    spec: Any, data: str | Path, *, sampler: SamplerSettings | None = None, n_ranks: int = 100
) -> SBCSetup:
    """The SBC setup of a specification on a data file (design, cuts, resolved priors, seed)."""
    checked = check_inputs(spec, data)
    resolved = resolve_spec(checked)
    return SBCSetup(
        inputs=model_inputs(checked),
        priors=model_priors(resolved),
        seed=resolved.sampler.seed,
        sampler=sampler or DEFAULT_SBC_SAMPLER,
        n_ranks=n_ranks,
    )
