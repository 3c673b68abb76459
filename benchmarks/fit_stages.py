"""One whole ``necc-bayes fit`` in this process, timed stage by stage (run by whole_process.py).

    python benchmarks/fit_stages.py SPEC DATA OUT

Runs the CLI's ``main(["fit", ...])`` exactly as the shell would (with the garbage-collector
settings of the installed script, ``necc_bayes.cli.console``), with timers wrapped around a
few stable functions, and prints one ``RESULT {json}`` line:

* ``import_s``: importing the fit path (``necc_bayes.survival.fit``, PyMC,
  nutpie); ``wall_s`` is measured by the parent around the whole process;
* ``compile_s`` (``compile_model``: load or compile), ``sampling_s`` (``nutpie.sample``: the
  sampler-only time), ``post_s`` (conditional baseline draws, per-subject log-likelihood, log
  prior, data groups), ``diagnostics_s``, ``ph_check_fit_s`` (the PH check ``fit()`` runs
  to warn); ``validate_build_s`` is the rest of ``fit()`` (reading and validating the data,
  resolving the spec, building the PyMC model);
* ``write_s`` (``PEMResult.save``: every output file) and inside it ``loo_s``, ``ppc_s``,
  ``ph_check_s``, ``netcdf_s`` where those functions exist;
* ``from_cache``, ``peak_rss_mib``, and the fit's minimum bulk ESS over ``log_hr`` and
  ``baseline_hazard`` (read back from ``OUT/posterior.nc`` after the timed part).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

TIMES: dict[str, float] = {}
FLAGS: dict[str, Any] = {}


def _wrap(module: str, attr: str, label: str, after: Callable[[Any], None] | None = None) -> None:
    """Time every call of ``module.attr`` into ``TIMES[label]`` (skipped if it does not exist)."""
    try:
        obj: Any = importlib.import_module(module)
        *path, name = attr.split(".")
        for part in path:
            obj = getattr(obj, part)
        orig = getattr(obj, name)
    except (ImportError, AttributeError):
        return

    def timed(*args: Any, **kwargs: Any) -> Any:
        # fit() itself runs the PH check (warn=True): that time is its own stage, not "build"
        key = "ph_check_fit_s" if label == "ph_check_s" and FLAGS.get("in_fit") else label
        FLAGS["in_fit"] = FLAGS.get("in_fit") or label == "fit_s"
        t = time.perf_counter()
        try:
            out = orig(*args, **kwargs)
        finally:
            TIMES[key] = TIMES.get(key, 0.0) + time.perf_counter() - t
            if label == "fit_s":
                FLAGS["in_fit"] = False
        if after is not None:
            after(out)
        return out

    setattr(obj, name, timed)


def _note_cache(result: Any) -> None:
    FLAGS["from_cache"] = bool(result.from_cache)


def _min_ess(path: str) -> float:
    import arviz as az
    import numpy as np
    import xarray as xr

    post = xr.open_datatree(path)["posterior"].to_dataset()
    names = [v for v in ("log_hr", "baseline_hazard") if v in post]
    ess = az.ess(post[names], method="bulk")
    return float(min(np.nanmin(ess[v].to_numpy()) for v in names))


def _import_fit_path() -> float:
    """Import what ``necc-bayes fit`` imports; return the seconds it took."""
    t = time.perf_counter()
    for name in ("necc_bayes.cli.main", "necc_bayes.survival.fit", "pymc", "nutpie"):
        importlib.import_module(name)
    return time.perf_counter() - t


def run(spec: str, data: str, out: str) -> dict[str, Any]:
    """One timed ``fit`` (module docstring)."""
    t0 = time.perf_counter()
    import_s = _import_fit_path()
    from necc_bayes.cli.main import main

    _wrap("necc_bayes.survival.fit", "fit", "fit_s")
    _wrap("necc_bayes.survival.sampling", "compile_model", "compile_s", after=_note_cache)
    _wrap("nutpie", "sample", "sampling_s")
    _wrap("necc_bayes.survival.sampling", "add_posterior_quantities", "post_s")
    _wrap("necc_bayes.survival.result", "PEMResult.save", "write_s")
    _wrap("necc_bayes.survival.result", "PEMResult.to_netcdf", "netcdf_s")
    _wrap("necc_bayes.survival.result", "PEMResult.posterior_predictive_check", "ppc_s")
    _wrap("necc_bayes.survival.result", "PEMResult.ph_check", "ph_check_s")
    _wrap("necc_bayes.inference.loo", "psis_loo", "loo_s")  # where loo() looks it up
    _wrap("necc_bayes.survival.result", "check_convergence", "diagnostics_s")
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["fit", spec, "--data", data, "--out", out, "--overwrite", "--quiet"])
    timed_s = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    t = TIMES
    inner = sum(
        t.get(k, 0.0)
        for k in ("compile_s", "sampling_s", "post_s", "diagnostics_s", "ph_check_fit_s")
    )
    known = ("import_s", "fit_s", "write_s")
    return {
        "exit_code": code,
        "other_s": max(timed_s - import_s - sum(t.get(k, 0.0) for k in known[1:]), 0.0),
        "import_s": import_s,
        "validate_build_s": max(t.get("fit_s", 0.0) - inner, 0.0),
        **t,
        "in_process_s": timed_s,
        "peak_rss_mib": peak,
        "from_cache": FLAGS.get("from_cache"),
        "min_ess": _min_ess(f"{out}/posterior.nc"),
    }


if __name__ == "__main__":
    # as the installed script (necc_bayes.cli.console) runs main(): collector tuned for one
    # short-lived process, live objects left to the operating system at exit
    from necc_bayes.cli.runtime import leave_objects_to_os, short_lived_gc

    short_lived_gc()
    print("RESULT " + json.dumps(run(*sys.argv[1:4])))
    leave_objects_to_os()
