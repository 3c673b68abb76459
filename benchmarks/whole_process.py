"""Whole-process benchmarks (issue 21): what a user pays for ``necc-bayes fit``, not the sampler.

    .venv/bin/python benchmarks/whole_process.py                    # n = 88, 20,000, 1,000,000
    .venv/bin/python benchmarks/whole_process.py --sizes 88,20000   # (run.py calls this too)

For each size, in one run (so the ratios share the machine's load):

* ``fit`` twice in fresh processes with an empty compile cache (``NECC_BAYES_CACHE_DIR`` in a
  temporary directory): the first compiles ("cold"), the second loads ("warm"). Each process is
  timed from the outside (``wall``) and broken down from the inside (``fit_stages.py``):
  import, validate + build, compile, sampling (the sampler-only time), post-processing,
  diagnostics, writing every output file (with LOO, PPC, PH check and netCDF inside it).
* n = 88: lifelines' ``CoxPHFitter`` on the same CSV, whole process (read CSV, fit, print).
  Ratio: warm ``fit`` wall / lifelines wall (target <= 3).
* n = 20,000: the long-format Poisson PEM of the PyMC survival example
  (``baseline_poisson.py``) as a whole process on the same data, design and cuts (validate,
  build, compile, sample with the same chains/draws/seed): min bulk ESS (log-HRs and baseline
  rates) per whole-process second. Ratio: ours / long format (target >= 20).
* n = 1,000,000: the fit must finish with every output file within 15 minutes and 8 GiB, its
  diagnostics passing; one (cold-cache) process only.

n = 88 is ``models/prs_final.toml`` on the bundled cohort; larger n are ``simulate.py`` cohorts
(six 0/1 covariates, age, a count, two continuous biomarkers: every subject its own pattern)
with 10 quantile intervals, written as CSV + spec by :func:`write_cohort`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

SAMPLER = {  # per size: chains, tune, draws (n = 88: the spec's own 4 x (1000 + 1000))
    20000: (2, 1000, 1000),
    1000000: (2, 1000, 1000),
}
TARGET_COX_RATIO = 3.0
TARGET_ESS_RATIO = 20.0
TARGET_REGISTRY_S = 15 * 60
TARGET_REGISTRY_MIB = 8 * 1024


def write_cohort(n: int, directory: Path, *, seed: int = 20260101) -> tuple[Path, Path]:
    """Write the benchmark cohort of size ``n`` and its spec; return (spec, csv)."""
    if n == 88:
        return ROOT / "models/prs_final.toml", ROOT / "data/synthetic/necc_synthetic_cohort.csv"
    import numpy as np
    import pandas as pd
    from simulate import simulate

    c = simulate(n, seed=seed, design="mixed", n_intervals=10)
    df = pd.DataFrame(c.X_raw, columns=c.terms)
    for t in c.terms[:6]:
        df[t] = df[t].astype(int)
    df.insert(0, "id", np.arange(1, n + 1))
    df["time"] = np.round(c.time, 6)
    df["event"] = c.event
    csv = directory / f"cohort_{n}.csv"
    df.to_csv(csv, index=False)
    chains, tune, draws = SAMPLER.get(n, (2, 1000, 1000))
    terms = ", ".join(f'"{t}"' for t in c.terms)
    spec = directory / f"spec_{n}.toml"
    spec.write_text(
        f'name = "bench_{n}"\n'
        f'description = "benchmark cohort, n = {n}, 10 covariates, 10 quantile intervals"\n'
        '[data]\ntime = "time"\nevent = "event"\nid = "id"\n'
        f"[covariates]\nterms = [{terms}]\ncenter = true\n"
        '[intervals]\nrule = "quantile"\nn = 10\n'
        '[priors]\nlog_hr = { dist = "normal", mu = 0.0, sigma = 1.0 }\n'
        'baseline = { dist = "gamma", alpha = "auto", beta = "auto", marginalize = true }\n'
        f"[sampler]\ndraws = {draws}\ntune = {tune}\nchains = {chains}\nseed = {seed}\n",
        encoding="utf-8",
    )
    return spec, csv


def _child(argv: list[str], env: dict[str, str] | None = None, timeout: float = 3600) -> dict:
    """Run ``python argv...`` in a fresh process; its RESULT json plus wall time and peak RSS."""
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    wall = time.perf_counter() - t
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stderr[-4000:])
        raise RuntimeError(f"benchmark process failed: {argv}")
    out = json.loads(lines[-1][len("RESULT ") :])
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out.update(wall_s=wall, load_before=load, child_maxrss_mib=max(after, before) / 1024.0)
    return out


REGISTRY = 1_000_000
"""From this size one (cold-cache) process only: the target is the first fit (~15 min)."""


def fit_twice(spec: Path, csv: Path, work: Path, *, warm: bool = True) -> dict:
    """A cold then (``warm``) a warm ``fit`` (fresh processes, own empty compile cache)."""
    env = {"NECC_BAYES_CACHE_DIR": str(work / "cache"), "PYTHONWARNINGS": "ignore"}
    stages = str(HERE / "fit_stages.py")
    out = {"cold": _child([stages, str(spec), str(csv), str(work / "cold")], env)}
    if warm:
        out["warm"] = _child([stages, str(spec), str(csv), str(work / "warm")], env)
    last = work / ("warm" if warm else "cold")
    out["files"] = sorted(p.name for p in last.iterdir())
    out["diagnostics_passed"] = json.loads((last / "diagnostics.json").read_text())["passed"]
    return out


LIFELINES = """
import sys, time, json
t = time.perf_counter()
import pandas as pd
from lifelines import CoxPHFitter
df = pd.read_csv(sys.argv[1])
cols = sys.argv[2].split(",")
cph = CoxPHFitter().fit(df[[*cols, sys.argv[3], sys.argv[4]]], sys.argv[3], sys.argv[4])
print(cph.summary[["coef", "se(coef)"]].to_string())
print("RESULT " + json.dumps({"in_process_s": time.perf_counter() - t}))
"""

LONG_FORMAT = """
import sys, time, json
import numpy as np
from baseline_poisson import build_long_poisson
from necc_bayes.survival.fit import resolve_spec
from necc_bayes.survival.inputs import check_inputs, model_inputs, model_priors
import arviz as az, nutpie
checked = check_inputs(sys.argv[1], sys.argv[2])
resolved = resolve_spec(checked)
inputs, priors = model_inputs(checked), model_priors(resolved)  # lambda_j sampled, Gamma(a, b)
s = resolved.sampler
model = build_long_poisson(inputs, priors)
compiled = nutpie.compile_pymc_model(model)
t = time.perf_counter()
tree = nutpie.sample(compiled, draws=s.draws, tune=s.tune, chains=s.chains, cores=s.chains,
                     seed=s.seed, progress_bar=False)
sampling = time.perf_counter() - t
post = tree["posterior"].to_dataset()
ess = az.ess(post[["log_hr", "baseline_hazard"]], method="bulk")
print("RESULT " + json.dumps({"sampling_s": sampling, "min_ess": float(min(
    ess["log_hr"].min(), ess["baseline_hazard"].min()))}))
"""


def lifelines_whole(csv: Path) -> dict:
    """lifelines' CoxPHFitter on the n = 88 model's covariates, whole process."""
    return _child(["-c", LIFELINES, str(csv), "site_abdominal,n_sites_gt1", "prs_months", "death"])


def long_format_whole(spec: Path, csv: Path) -> dict:
    """The long-format Poisson baseline as a whole process on the same data and settings."""
    env = {"PYTHONPATH": str(HERE), "PYTHONWARNINGS": "ignore"}
    return _child(["-c", LONG_FORMAT, str(spec), str(csv)], env)


def run(sizes: list[int], work_root: Path | None = None) -> dict:
    """Every whole-process job for ``sizes``; returns the raw numbers and the ratios."""
    res: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "sizes": {},
        "load_start": os.getloadavg()[0],
    }
    with tempfile.TemporaryDirectory(dir=work_root) as tmp:
        for n in sizes:
            work = Path(tmp) / f"n{n}"
            work.mkdir()
            spec, csv = write_cohort(n, work)
            kinds = "cold + warm" if n < REGISTRY else "cold"
            print(f"whole process n={n:,}: fit {kinds} ...", flush=True)
            entry = fit_twice(spec, csv, work, warm=n < REGISTRY)
            if n == 88:
                print("  lifelines CoxPHFitter ...", flush=True)
                entry["lifelines"] = lifelines_whole(csv)
            if n == 20000:
                print("  long-format Poisson baseline ...", flush=True)
                entry["long_format"] = long_format_whole(spec, csv)
            res["sizes"][str(n)] = entry
            _print_entry(n, entry)
    res["load_end"] = os.getloadavg()[0]
    res["targets"] = targets(res)
    return res


def _print_entry(n: int, e: dict) -> None:
    for kind in [k for k in ("cold", "warm") if k in e]:
        f = e[kind]
        print(
            f"  {kind}: wall {f['wall_s']:.1f} s (import {f['import_s']:.1f}, compile "
            f"{f.get('compile_s', 0):.1f}, sampling {f.get('sampling_s', 0):.1f}, write "
            f"{f.get('write_s', 0):.1f}), min ESS {f['min_ess']:.0f}, "
            f"RSS {f['peak_rss_mib']:.0f} MiB",
            flush=True,
        )


def targets(res: dict) -> list[str]:
    """The three same-run ratios of issue 21, as markdown bullet points."""
    out = []
    s = res["sizes"]
    if "88" in s and "lifelines" in s["88"]:
        ours, cox = s["88"]["warm"]["wall_s"], s["88"]["lifelines"]["wall_s"]
        r = ours / cox
        out.append(
            f"* n = 88, second `fit` (warm cache) whole process vs lifelines `CoxPHFitter` whole "
            f"process: {ours:.1f} s / {cox:.1f} s = **{r:.1f}×** (target ≤ {TARGET_COX_RATIO:g}×) "
            f"— {'met' if r <= TARGET_COX_RATIO else 'NOT met'}"
        )
    if "20000" in s and "long_format" in s["20000"]:
        e = s["20000"]
        lf = e["long_format"]["min_ess"] / e["long_format"]["wall_s"]
        for kind in ("warm", "cold"):
            ours = e[kind]["min_ess"] / e[kind]["wall_s"]
            r = ours / lf
            out.append(
                f"* n = 20,000 whole-process min-ESS/s, `fit` ({kind} cache) vs the long-format "
                f"baseline: {ours:.1f} / {lf:.2f} = **{r:.1f}×** (target ≥ "
                f"{TARGET_ESS_RATIO:g}×) — {'met' if r >= TARGET_ESS_RATIO else 'NOT met'}"
            )
    if "1000000" in s:
        e = s["1000000"]["cold"]
        passed = s["1000000"]["diagnostics_passed"]
        ok = (
            e["wall_s"] <= TARGET_REGISTRY_S
            and e["peak_rss_mib"] <= TARGET_REGISTRY_MIB
            and passed
            and e["exit_code"] == 0
        )
        out.append(
            f"* n = 1,000,000 (first fit, cold cache): {e['wall_s'] / 60:.1f} min, peak RSS "
            f"{e['peak_rss_mib'] / 1024:.2f} GiB, exit {e['exit_code']}, diagnostics "
            f"{'passed' if passed else 'FAILED'}, files: {', '.join(s['1000000']['files'])} "
            f"(target ≤ 15 min, ≤ 8 GiB, diagnostics passing) — {'met' if ok else 'NOT met'}"
        )
    return out


STAGES = [
    ("import_s", "import"),
    ("validate_build_s", "validate + build"),
    ("compile_s", "compile"),
    ("sampling_s", "sampling (sampler only)"),
    ("post_s", "post-processing"),
    ("diagnostics_s", "diagnostics"),
    ("ph_check_fit_s", "PH check (run by fit)"),
    ("write_s", "writing (all files)"),
    ("loo_s", "… of which LOO"),
    ("ppc_s", "… PPC"),
    ("ph_check_s", "… PH check"),
    ("netcdf_s", "… posterior.nc"),
    ("other_s", "rest of the CLI (spec, output checks, printing)"),
]


def markdown(res: dict) -> list[str]:
    """The breakdown table (one column per size and cache state) and the targets."""
    cols = [(n, k) for n in res["sizes"] for k in ("cold", "warm") if k in res["sizes"][n]]
    head = "| stage (s) | " + " | ".join(f"n = {int(n):,} {k}" for n, k in cols) + " |"
    lines = [
        "## Whole process (`necc-bayes fit` from the shell)",
        "",
        f"Run {res['date']}; load average {res['load_start']:.2f} before, "
        f"{res['load_end']:.2f} after. Each column is one fresh process; cold = empty "
        "compile cache, warm = the second process. Script: `benchmarks/whole_process.py`.",
        "",
        "### Targets (same run)",
        "",
        *res["targets"],
        "",
        "### Breakdown",
        "",
        head,
        "|" + "---|" * (len(cols) + 1),
    ]
    for key, label in STAGES:
        vals = [res["sizes"][n][k].get(key) for n, k in cols]
        lines.append(
            f"| {label} | " + " | ".join("–" if v is None else f"{v:,.2f}" for v in vals) + " |"
        )
    startup = [res["sizes"][n][k]["wall_s"] - res["sizes"][n][k]["in_process_s"] for n, k in cols]
    lines.append("| interpreter start + exit | " + " | ".join(f"{v:,.2f}" for v in startup) + " |")
    for key, label in [
        ("wall_s", "**whole process (wall)**"),
        ("min_ess", "min bulk ESS"),
        ("peak_rss_mib", "peak RSS MiB"),
    ]:
        vals = [res["sizes"][n][k][key] for n, k in cols]
        lines.append(f"| {label} | " + " | ".join(f"{v:,.1f}" for v in vals) + " |")
    ess_s = [res["sizes"][n][k]["min_ess"] / res["sizes"][n][k]["sampling_s"] for n, k in cols]
    whole = [res["sizes"][n][k]["min_ess"] / res["sizes"][n][k]["wall_s"] for n, k in cols]
    lines.append("| min-ESS/s, sampler only | " + " | ".join(f"{v:,.1f}" for v in ess_s) + " |")
    lines.append("| min-ESS/s, whole process | " + " | ".join(f"{v:,.1f}" for v in whole) + " |")
    extra = []
    if "88" in res["sizes"] and "lifelines" in res["sizes"]["88"]:
        extra.append(
            f"lifelines CoxPHFitter whole process (n = 88): "
            f"{res['sizes']['88']['lifelines']['wall_s']:.2f} s"
        )
    if "20000" in res["sizes"] and "long_format" in res["sizes"]["20000"]:
        lf = res["sizes"]["20000"]["long_format"]
        extra.append(
            f"long-format Poisson whole process (n = 20,000): {lf['wall_s']:.1f} s "
            f"(sampling {lf['sampling_s']:.1f} s), min bulk ESS {lf['min_ess']:.0f}"
        )
    return [*lines, "", *[f"* {e}" for e in extra]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="88,20000,1000000")
    ap.add_argument("--out", type=Path, default=HERE / "results_whole.md")
    args = ap.parse_args(argv)
    res = run([int(s) for s in args.sizes.split(",")])
    text = markdown(res)
    args.out.write_text("\n".join(["# necc-bayes whole-process benchmark", "", *text, ""]))
    args.out.with_suffix(".json").write_text(json.dumps(res, indent=1))
    print("\n".join(res["targets"]))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
