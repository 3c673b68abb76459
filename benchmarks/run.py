"""necc-bayes benchmarks: our PEM against the standard long-format Poisson formulation.

    .venv/bin/python benchmarks/run.py                 # full run (make bench), several minutes
    .venv/bin/python benchmarks/run.py --quick         # small smoke run (results_quick.md)
    .venv/bin/python benchmarks/run.py --sizes 88,1000 --draws 500

Every fit runs in its own subprocess (this file with ``--worker JOB``), so its peak resident
memory (``getrusage``) is its own. See benchmarks/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

MODELS = {
    "ours": "ours (default: marginalised gamma, sufficient statistics)",
    "ours_unmarg": "ours, unmarginalised gamma (lambda sampled)",
    "ours_sorted": "experimental: ours with S_j in O(n + J) (benchmarks/sorted_pem.py)",
    "baseline": "long-format Poisson, same centred design",
    "baseline_raw": "long-format Poisson, raw covariates (as the PyMC example)",
}


# ----------------------------------------------------------------------------- worker side


class CompileCounter:
    """Counts nutpie model compilations and pytensor function compilations in this process."""

    def __init__(self) -> None:
        import nutpie
        from pytensor.compile import FunctionMaker

        self.nutpie = 0
        self.pytensor = 0
        orig_create = FunctionMaker.create
        orig_compile = nutpie.compile_pymc_model

        def create(maker, *args, **kwargs):
            self.pytensor += 1
            return orig_create(maker, *args, **kwargs)

        def compile_pymc_model(*args, **kwargs):
            self.nutpie += 1
            return orig_compile(*args, **kwargs)

        FunctionMaker.create = create
        nutpie.compile_pymc_model = compile_pymc_model

    def as_dict(self) -> dict[str, int]:
        return {"compilations": self.nutpie, "pytensor_functions": self.pytensor}


def peak_rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0  # Linux: KiB


def _build(kind: str, cohort):
    from baseline_poisson import build_long_poisson
    from simulate import priors_for, raw_inputs

    from necc_bayes.survival.model import build_model

    if kind == "ours":
        return build_model(cohort.inputs, priors_for(cohort), warn=False)
    if kind == "ours_unmarg":
        return build_model(cohort.inputs, priors_for(cohort, marginalize=False), warn=False)
    if kind == "ours_sorted":
        from sorted_pem import build_model_sorted

        return build_model_sorted(cohort.inputs, priors_for(cohort))
    if kind == "baseline":
        return build_long_poisson(cohort.inputs, priors_for(cohort, marginalize=False))
    if kind == "baseline_raw":
        return build_long_poisson(raw_inputs(cohort), priors_for(cohort, marginalize=False))
    raise ValueError(kind)


def _summaries(tree, kind: str, cohort, seed: int) -> dict:
    import arviz as az
    import numpy as np
    import xarray as xr

    from necc_bayes.survival import likelihood as pem_math
    from necc_bayes.survival.sampling import baseline_rng

    post = tree["posterior"].to_dataset()
    # marginalised: baseline drawn from its conditional posterior, as sample_posterior does
    if kind in ("ours", "ours_sorted"):
        from simulate import priors_for

        base = priors_for(cohort).baseline
        beta = post["log_hr"].transpose("chain", "draw", "term").to_numpy()
        stats = pem_math.sufficient_stats(cohort.X, cohort.pp)
        lam = pem_math.draw_baseline(beta, base.alpha, base.beta, stats, baseline_rng(seed))
        post["baseline_hazard"] = xr.DataArray(lam, dims=("chain", "draw", "interval"))
    ess = az.ess(post[["log_hr", "baseline_hazard"]], method="bulk")
    rhat = az.rhat(post[["log_hr", "baseline_hazard"]])
    stats_ds = tree["sample_stats"].to_dataset()
    grads = int(stats_ds["n_steps"].sum())
    if "warmup_sample_stats" in tree.children:
        grads += int(tree["warmup_sample_stats"].to_dataset()["n_steps"].sum())
    return {
        "min_ess_beta": float(ess["log_hr"].min()),
        "min_ess_all": float(min(ess["log_hr"].min(), ess["baseline_hazard"].min())),
        "max_rhat": float(max(rhat["log_hr"].max(), rhat["baseline_hazard"].max())),
        "divergences": int(stats_ds["diverging"].sum()),
        "mean_depth": float(stats_ds["depth"].mean()),
        "grad_evals": grads,
        "beta_mean": post["log_hr"].mean(("chain", "draw")).to_numpy().tolist(),
        "beta_sd": post["log_hr"].std(("chain", "draw")).to_numpy().tolist(),
        "n_sampled": int(sum(np.prod(v.shape[2:]) for v in _sampled(tree, kind).values())),
    }


def _sampled(tree, kind: str) -> dict:
    post = tree["posterior"].to_dataset()
    names = ["log_hr_normal"] if kind.startswith("ours") else ["log_hr"]
    if kind not in ("ours", "ours_sorted"):
        names.append("baseline_hazard")
    return {n: post[n] for n in names if n in post}


def grad_timing(model, batches: int = 5, calls: int = 100) -> float:
    """µs per log-density + gradient call of the model's numba function (best batch)."""
    import pytensor

    vv = model.value_vars
    logp = model.logp()
    fn = pytensor.function(vv, [logp, *pytensor.grad(logp, vv)], mode="NUMBA")
    ip = model.initial_point()
    args = [ip[v.name] for v in vv]
    fn(*args)
    best = float("inf")
    for _ in range(batches):
        t = time.perf_counter()
        for _ in range(calls):
            fn(*args)
        best = min(best, (time.perf_counter() - t) / calls)
    return best * 1e6


def run_fit(job: dict) -> dict:
    counter = CompileCounter()
    import nutpie
    from simulate import simulate

    rss_import = peak_rss_mib()
    cohort = simulate(job["n"], seed=job["seed"], design=job["design"])
    t0 = time.perf_counter()
    model = _build(job["model"], cohort)
    t1 = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model)
    t2 = time.perf_counter()
    tree = nutpie.sample(
        compiled,
        draws=job["draws"],
        tune=job["tune"],
        chains=job["chains"],
        cores=job["chains"],
        seed=job["seed"],
        progress_bar=False,
    )
    t3 = time.perf_counter()
    # repeat the same-seed sampling (bit-identical draws) while it is cheap: the median
    # time is less sensitive to other jobs on the 2 cores than a single run
    times = [t3 - t2]
    while len(times) < job.get("repeats", 3) and sum(times) < job.get("repeat_budget_s", 20.0):
        ta = time.perf_counter()
        nutpie.sample(
            compiled,
            draws=job["draws"],
            tune=job["tune"],
            chains=job["chains"],
            cores=job["chains"],
            seed=job["seed"],
            progress_bar=False,
        )
        times.append(time.perf_counter() - ta)
    out = {
        **job,
        "n_events": int(cohort.event.sum()),
        "n_intervals": cohort.pp.n_intervals,
        "n_patterns": cohort.n_patterns,
        "n_long_rows": cohort.n_long_rows,
        "build_s": t1 - t0,
        "compile_s": t2 - t1,
        "sample_first_s": t3 - t2,
        "sample_times_s": times,
        "sample_s": statistics.median(times),
        **_summaries(tree, job["model"], cohort, job["seed"]),
        **counter.as_dict(),
        "rss_after_import_mib": rss_import,
    }
    out["peak_rss_mib"] = peak_rss_mib()
    if job.get("grad_timing"):  # after the counts and RSS: its own compilation is not counted
        out["grad_us"] = grad_timing(model)
    return out


def sweep_settings(k: int, crude_rate: float) -> list[dict]:
    """``k`` prior settings: log-HR sigma x gamma-baseline strength (prior mean = crude rate)."""
    sigmas = [0.25, 0.5, 1.0, 2.0, 4.0]
    alphas = [1.0, 0.1, 5.0, 0.01]
    grid = [(s, a) for a in alphas for s in sigmas]
    return [
        {"sigma": s, "alpha": a, "beta": a / crude_rate if a != 0.01 else 0.01} for s, a in grid[:k]
    ]


def run_refit(job: dict) -> dict:
    """n = 88: one cold fit, warm refits on new data, and a sweep of prior settings."""
    counter = CompileCounter()
    import numpy as np
    import nutpie
    from simulate import simulate

    from necc_bayes.survival.likelihood import sufficient_stats

    settings = {k: job[k] for k in ("draws", "tune", "chains")}
    cohort = simulate(job["n"], seed=job["seed"], design=job["design"])
    p = len(cohort.terms)
    t0 = time.perf_counter()
    model = _build("ours", cohort)
    compiled = nutpie.compile_pymc_model(model)
    t1 = time.perf_counter()
    tree = nutpie.sample(
        compiled, **settings, cores=job["chains"], seed=job["seed"], progress_bar=False
    )
    t2 = time.perf_counter()
    cold = {"compile_s": t1 - t0, "sample_s": t2 - t1, "fit_s": t2 - t0}
    cold.update(_summaries(tree, "ours", cohort, job["seed"]))

    # warm refits: new cohorts of the same size through with_data (no recompilation)
    warm = []
    for r in range(job["n_warm"]):
        new = simulate(job["n"], seed=job["seed"] + 1000 + r, design=job["design"])
        st = sufficient_stats(new.X, new.pp)
        ta = time.perf_counter()
        tree = nutpie.sample(
            compiled.with_data(X_u=st.X_u, E_u=st.E_u, d=st.d, s=st.s),
            **settings,
            cores=job["chains"],
            seed=job["seed"] + r + 1,
            progress_bar=False,
        )
        warm.append(time.perf_counter() - ta)
    after_warm = counter.as_dict()

    # sweep: k prior settings on the original cohort, one compiled model
    crude = float(cohort.event.sum() / cohort.time.sum())
    ts = time.perf_counter()
    model = _build("ours", cohort)
    compiled = nutpie.compile_pymc_model(model)
    tc = time.perf_counter()
    ess_min, div, rhat_max, per = np.inf, 0, 0.0, []
    for i, s in enumerate(sweep_settings(job["n_sweep"], crude)):
        ta = time.perf_counter()
        tree = nutpie.sample(
            compiled.with_data(
                normal_sigma=np.full(p, s["sigma"]),
                baseline_alpha=s["alpha"],
                baseline_beta=s["beta"],
            ),
            **settings,
            cores=job["chains"],
            seed=job["seed"] + 100 + i,
            progress_bar=False,
        )
        per.append(time.perf_counter() - ta)
        summ = _summaries(tree, "ours", cohort, job["seed"])
        ess_min = min(ess_min, summ["min_ess_beta"])
        div += summ["divergences"]
        rhat_max = max(rhat_max, summ["max_rhat"])
    te = time.perf_counter()
    total = counter.as_dict()
    return {
        **job,
        "cold": cold,
        "warm_s": warm,
        "compilations_cold_plus_warm": after_warm["compilations"],
        "sweep": {
            "k": job["n_sweep"],
            "compile_s": tc - ts,
            "sample_s_each": per,
            "total_s": te - ts,
            "compilations": total["compilations"] - after_warm["compilations"],
            "min_ess_beta": ess_min,
            "divergences": div,
            "max_rhat": rhat_max,
        },
        "refit_api": "nutpie.compile_pymc_model + CompiledModel.with_data + nutpie.sample",
        **total,
        "peak_rss_mib": peak_rss_mib(),
    }


def worker(job: dict) -> None:
    warnings.simplefilter("ignore")
    if job["kind"] == "package":
        from package_fit import run_package

        out = run_package(job)
        out["peak_rss_mib"] = peak_rss_mib()
    else:
        out = run_fit(job) if job["kind"] == "fit" else run_refit(job)
    print("RESULT " + json.dumps(out))


# ----------------------------------------------------------------------------- parent side


def run_job(job: dict) -> dict:
    load = os.getloadavg()[0]
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(job)],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stderr[-4000:])
        raise RuntimeError(f"benchmark job failed: {job}")
    out = json.loads(lines[-1][len("RESULT ") :])
    out["load_before"] = load
    out["process_wall_s"] = wall
    return out


def machine() -> dict:
    def sh(cmd: str) -> str:
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    from importlib.metadata import version

    lscpu = sh("lscpu")
    keep = ("Architecture", "Model name", "CPU(s):", "Thread(s) per core", "Core(s) per socket")
    keep += ("L2 cache", "L3 cache", "Hypervisor vendor")
    return {
        "lscpu": "\n".join(ln for ln in lscpu.splitlines() if ln.startswith(keep)),
        "nproc": sh("nproc"),
        "free": sh("free -h"),
        "kernel": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            p: version(p) for p in ("pymc", "pytensor", "nutpie", "arviz", "numpy", "numba")
        },
    }


def fmt(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def fit_table(fits: list[dict]) -> list[str]:
    head = (
        "| n | design | J | patterns | long rows | model | sampled params | build+compile s "
        "| sampling s (median / 1st) | min bulk ESS (all) | min bulk ESS (β) | ESS/s | × baseline "
        "| × baseline_raw | grad evals | µs/grad | depth | div | compilations | peak RSS MiB |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for f in fits:
        ref = {g["model"]: g for g in fits if g["n"] == f["n"] and g["design"] == f["design"]}

        def ratio(name: str, f=f, ref=ref) -> str:
            if name not in ref:
                return "–"
            return fmt(f["ess_per_s"] / ref[name]["ess_per_s"], 1) + "×"

        us = 1e6 * f["sample_s"] * f["chains"] / f["grad_evals"]
        lines.append(
            f"| {f['n']:,} | {f['design']} | {f['n_intervals']} | {f['n_patterns']:,} "
            f"| {f['n_long_rows']:,} | {f['model']} | {f['n_sampled']} "
            f"| {fmt(f['build_s'] + f['compile_s'])} "
            f"| {fmt(f['sample_s'], 2)} / {fmt(f.get('sample_first_s', f['sample_s']), 2)} "
            f"| {fmt(f['min_ess_all'], 0)} | {fmt(f['min_ess_beta'], 0)} "
            f"| {fmt(f['ess_per_s'], 0)} | {ratio('baseline')} | {ratio('baseline_raw')} "
            f"| {f['grad_evals']:,} | {fmt(us, 0)} | {fmt(f['mean_depth'], 1)} "
            f"| {f['divergences']} | {f['compilations']} | {fmt(f['peak_rss_mib'], 0)} |"
        )
    return lines


def agreement(fits: list[dict]) -> list[str]:
    """Max |posterior mean difference| / posterior SD of each log-HR, ours vs the others."""
    out = []
    for f in fits:
        if f["model"] == "ours":
            continue
        ours = next(
            (
                g
                for g in fits
                if g["model"] == "ours" and g["n"] == f["n"] and g["design"] == f["design"]
            ),
            None,
        )
        if ours is None or f["model"] == "baseline_raw":
            continue
        z = max(
            abs(a - b) / s
            for a, b, s in zip(f["beta_mean"], ours["beta_mean"], ours["beta_sd"], strict=True)
        )
        out.append(f"n = {f['n']:,} ({f['design']}): {f['model']} vs ours {z:.3f} SD")
    return out


def write_report(path: Path, res: dict) -> None:
    fits, refit, mach, args = res["fits"], res.get("refit"), res["machine"], res["args"]
    L = ["# necc-bayes benchmark results", ""]
    L += [
        f"Written by `benchmarks/run.py` on {res['date']} ({res['total_s'] / 60:.1f} min in all). "
        f"Settings: nutpie (numba), {args['chains']} chains in parallel × {args['tune']} tune "
        f"+ {args['draws']} draws, seed {args['seed']}; every fit in its own process. "
        "What each column means: `benchmarks/README.md`.",
        "",
        f"Load average (1 min) before the run {res['load_start']:.2f}, "
        f"after {res['load_end']:.2f}; "
        "per job: " + ", ".join(f"{fmt(f['load_before'], 2)}" for f in fits) + ".",
        "",
        "## Targets",
        "",
    ]
    L += res["targets"] + ["", "## Fits", ""]
    L += fit_table(fits)
    L += ["", "Models:", ""] + [f"* `{k}`: {v}" for k, v in MODELS.items()]
    L += ["", "Posterior agreement (same posterior, so the log-HR means must agree):", ""]
    L += [f"* {a}" for a in agreement(fits)]
    if refit:
        c, sw = refit["cold"], refit["sweep"]
        L += [
            "",
            f"## Refits and sweeps (n = {refit['n']}, ours)",
            "",
            f"API used: {refit['refit_api']}.",
            "",
            "| what | wall s | compilations | notes |",
            "|---|---|---|---|",
            f"| one cold fit (build + compile + sample) | {fmt(c['fit_s'], 2)} | 1 "
            f"| compile {fmt(c['compile_s'], 2)} s, sample {fmt(c['sample_s'], 2)} s |",
            f"| warm refit, new data (median of {len(refit['warm_s'])}) "
            f"| {fmt(statistics.median(refit['warm_s']), 2)} | 0 "
            f"| each: {', '.join(fmt(w, 2) for w in refit['warm_s'])} |",
            f"| sweep of {sw['k']} prior settings (compile once + {sw['k']} samples) "
            f"| {fmt(sw['total_s'], 2)} | {sw['compilations']} "
            f"| compile {fmt(sw['compile_s'], 2)} s, "
            f"sampling {fmt(sum(sw['sample_s_each']), 2)} s; "
            f"min ESS(β) over the sweep {fmt(sw['min_ess_beta'], 0)}, "
            f"max R-hat {sw['max_rhat']:.3f}, {sw['divergences']} divergences |",
            "",
            f"Compilations in that process: {refit['compilations']} nutpie model compilations "
            f"(cold fit + sweep's own), {refit['pytensor_functions']} pytensor functions; "
            "warm refits and sweep settings add none. "
            f"Peak RSS {fmt(refit['peak_rss_mib'], 0)} MiB.",
        ]
    L += res.get("profile", [])
    L += ["", "## Machine", "", "```", mach["lscpu"], f"nproc: {mach['nproc']}", mach["free"]]
    L += [mach["kernel"], f"Python {mach['python']}"]
    L += [", ".join(f"{k} {v}" for k, v in mach["versions"].items()), "```", ""]
    path.write_text("\n".join(L))


def targets(fits: list[dict], refit: dict | None, package: dict | None = None) -> list[str]:
    out = []
    big = [f for f in fits if f["n"] == max(g["n"] for g in fits) and f["design"] == "mixed"]
    by = {f["model"]: f for f in big}
    if "ours" in by:
        n = by["ours"]["n"]
        for ref in ("baseline_raw", "baseline"):
            if ref in by:
                r = by["ours"]["ess_per_s"] / by[ref]["ess_per_s"]
                out.append(
                    f"* ESS/s ≥ 20× baseline at n = {n:,} vs `{ref}`: "
                    f"{fmt(by['ours']['ess_per_s'], 0)} / {fmt(by[ref]['ess_per_s'], 0)} = "
                    f"**{r:.1f}×** — {'met' if r >= 20 else 'NOT met'}"
                )
        rss = max(f["peak_rss_mib"] for f in big if f["model"].startswith("ours"))
        base_rss = max((f["peak_rss_mib"] for f in big if f["model"].startswith("base")), default=0)
        out.append(
            f"* peak RSS at n = {n:,} < 2 GiB: ours {fmt(rss, 0)} MiB "
            f"(baseline {fmt(base_rss, 0)} MiB)"
            f" — {'met' if rss < 2048 else 'NOT met'}"
        )
    if package:
        rss = package["peak_rss_mib"]
        out.append(
            f"* peak RSS of the package's own path (`sample_posterior`, {package['chains']} chains "
            f"× {package['draws']} draws: compile, sample, baseline "
            f"draws, per-subject log-likelihood of {package['log_likelihood_mib']:.0f} MiB, "
            f"log prior) at n = {package['n']:,}: {fmt(rss, 0)} MiB in "
            f"{package['wall_s']:.1f} s — {'met' if rss < 2048 else 'NOT met'}"
        )
    if refit:
        w, w_max = statistics.median(refit["warm_s"]), max(refit["warm_s"])
        out.append(
            f"* warm refit of the n = {refit['n']} model < 3 s: median {w:.2f} s "
            f"(max {w_max:.2f} s), 0 compilations — {'met' if w_max < 3 else 'NOT met'}"
        )
        sw, one = refit["sweep"], refit["cold"]["fit_s"]
        out.append(
            f"* sweep of {sw['k']} prior settings ≤ 3× one fit: {sw['total_s']:.1f} s vs "
            f"3 × {one:.1f} s = {3 * one:.1f} s (**{sw['total_s'] / one:.2f}×**), "
            f"{sw['compilations']} compilation — {'met' if sw['total_s'] <= 3 * one else 'NOT met'}"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default=None, help="comma-separated cohort sizes (88,1000,20000)")
    ap.add_argument("--models", default=",".join(MODELS), help="subset of " + ",".join(MODELS))
    ap.add_argument("--draws", type=int, default=None)
    ap.add_argument("--tune", type=int, default=None)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--sweep", type=int, default=20, help="prior settings in the sweep")
    ap.add_argument("--no-binary", action="store_true", help="skip the all-0/1 design rows")
    ap.add_argument("--no-refit", action="store_true", help="skip warm refit and sweep")
    ap.add_argument("--no-package", action="store_true", help="skip sample_posterior at max n")
    ap.add_argument(
        "--whole",
        default="88,20000,1000000",
        help="sizes of the whole-process `necc-bayes fit` runs (whole_process.py); '' for none",
    )
    ap.add_argument("--repeats", type=int, default=3, help="same-seed samplings (≤ 20 s total)")
    ap.add_argument("--quick", action="store_true", help="n = 88,1000; 300+300; sweep of 5")
    ap.add_argument("--out", type=Path, default=None, help="markdown file to write")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return 0

    sizes = [
        int(s) for s in (args.sizes or ("88,1000" if args.quick else "88,1000,20000")).split(",")
    ]
    draws = args.draws or (300 if args.quick else 1000)
    tune = args.tune or (300 if args.quick else 1000)
    sweep = 5 if args.quick and args.sweep == 20 else args.sweep
    out = args.out or HERE / ("results_quick.md" if args.quick else "results.md")
    models = args.models.split(",")
    common = {"draws": draws, "tune": tune, "chains": args.chains, "seed": args.seed}
    rep = {"repeats": args.repeats}

    jobs = [
        {"kind": "fit", "n": n, "design": "mixed", "model": m, **common, **rep}
        | ({"grad_timing": True} if n == max(sizes) else {})
        for n in sizes
        for m in models
    ]
    if not args.no_binary and not args.quick:
        big = max(sizes)
        jobs += [
            {"kind": "fit", "n": big, "design": "binary", "model": m, **common, **rep}
            for m in ("ours", "ours_unmarg")
            if m in models
        ]
    t_start, load_start = time.perf_counter(), os.getloadavg()[0]
    fits = []
    for job in jobs:
        print(f"fit n={job['n']:>6} {job['design']:6} {job['model']:12} ...", end=" ", flush=True)
        f = run_job(job)
        f["ess_per_s"] = f["min_ess_all"] / f["sample_s"]
        fits.append(f)
        print(
            f"compile {f['compile_s']:.1f}s sample {f['sample_s']:.2f}s "
            f"minESS {f['min_ess_all']:.0f} ESS/s {f['ess_per_s']:.0f} "
            f"RSS {f['peak_rss_mib']:.0f}MiB"
        )
    package = None
    if not args.no_package:
        n_pkg = max(sizes)
        print(f"sample_posterior n={n_pkg} ...", end=" ", flush=True)
        # the package default is 4 chains (DESIGN §3): its memory is what users meet
        package = run_job({"kind": "package", "n": n_pkg, "design": "mixed", **common, "chains": 4})
        print(f"wall {package['wall_s']:.1f}s RSS {package['peak_rss_mib']:.0f}MiB")
    refit = None
    if not args.no_refit:
        print(f"refit/sweep n=88 ({sweep} settings) ...", end=" ", flush=True)
        refit = run_job(
            {"kind": "refit", "n": 88, "design": "mixed", "n_warm": 5, "n_sweep": sweep, **common}
        )
        print(
            f"warm {statistics.median(refit['warm_s']):.2f}s sweep {refit['sweep']['total_s']:.1f}s"
        )
    res = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "args": common,
        "fits": fits,
        "refit": refit,
        "package": package,
        "machine": machine(),
        "load_start": load_start,
        "load_end": os.getloadavg()[0],
        "total_s": time.perf_counter() - t_start,
    }
    res["targets"] = targets(fits, refit, package)
    res["profile"] = profile_text(fits)
    whole_sizes = [int(x) for x in args.whole.split(",") if x] if not args.quick else [88]
    if whole_sizes:
        from whole_process import markdown, run

        res["whole_process"] = run(whole_sizes)
        res["targets"] += res["whole_process"]["targets"]
        res["profile"] += ["", *markdown(res["whole_process"])]
    write_report(out, res)
    out.with_suffix(".json").write_text(json.dumps(res, indent=1))
    print("\n".join(res["targets"]))
    print(f"wrote {out}")
    return 0


def profile_text(fits: list[dict]) -> list[str]:
    """ESS/s = (ESS per draw) × (draws per gradient) × (gradients per second)."""
    L = [
        "",
        "## Where the time goes",
        "",
        "ESS/s factorises as (min ESS / draw) × (draws / gradient evaluation) × "
        "(gradient evaluations / s); `µs/grad` is sampling wall time × chains / all gradient "
        "evaluations (tuning included), i.e. the cost of one log-density + gradient inside "
        "the sampler; `µs / logp+grad alone` times the same model's log-density + gradient "
        "compiled by pytensor (numba) and called in a loop (best of 5 × 100 calls, largest n "
        "only), so the difference is the sampler's own overhead.",
        "",
        "| n | design | model | ESS / draw | gradients / draw | µs / gradient in nutpie "
        "| µs / logp+grad alone | sampled params |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for f in fits:
        total_draws = f["chains"] * (f["draws"] + f["tune"])
        L.append(
            f"| {f['n']:,} | {f['design']} | {f['model']} "
            f"| {f['min_ess_all'] / (f['chains'] * f['draws']):.2f} "
            f"| {f['grad_evals'] / total_draws:.1f} "
            f"| {1e6 * f['sample_s'] * f['chains'] / f['grad_evals']:,.0f} "
            f"| {fmt(f['grad_us'], 0) if 'grad_us' in f else '–'} | {f['n_sampled']} |"
        )
    return L


if __name__ == "__main__":
    raise SystemExit(main())
