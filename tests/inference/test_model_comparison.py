"""PSIS-LOO and model comparison on hand-made log-likelihood draws (no sampling).

Reference: for draws that are exactly the same in every subject, PSIS-LOO gives
``elpd_i = log mean_s exp(l_si) - ...``; here we only check ArviZ is wired correctly (elpd
sums, ordering, Pareto-k reporting), and the compare CLI end to end on netCDF files.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pytest
import xarray as xr

from necc_bayes.cli.main import main
from necc_bayes.errors import DataError
from necc_bayes.inference.loo import (
    ParetoKWarning,
    compare_dirs,
    compare_fits,
    loo,
)


def _tree(ll, name="spec"):
    chains, draws, n = ll.shape
    rng = np.random.default_rng(0)
    tree = az.from_dict(
        {
            "posterior": {"log_hr": rng.normal(size=(chains, draws, 1))},
            "log_likelihood": {"loglik_subject": ll},
        },
        dims={"log_hr": ["term"], "loglik_subject": ["subject"]},
        coords={"term": ["a"], "subject": np.arange(1, n + 1)},
    )
    tree.attrs["spec_name"] = name
    return tree


def _ll(rng, shift=0.0, n=40):
    return rng.normal(-1.0 + shift, 0.05, size=(2, 300, n))


def test_loo_without_high_k():
    rng = np.random.default_rng(1)
    out = loo(_tree(_ll(rng)))
    assert out.high_k_subjects == []
    d = out.to_dict()
    assert d["elpd_loo"] == pytest.approx(-40.0, abs=0.5)
    assert d["n_high_pareto_k"] == 0


def test_loo_names_influential_subjects():
    rng = np.random.default_rng(2)
    ll = _ll(rng)
    ll[:, :3, 7] -= 40.0  # a few draws make subject 8 extremely unlikely
    with pytest.warns(ParetoKWarning, match="subject") as rec:
        out = loo(_tree(ll), source="bad")
    assert "8" in out.high_k_subjects
    assert "bad" in str(rec[0].message)


def test_compare_orders_models():
    rng = np.random.default_rng(3)
    table = compare_fits({"good": _tree(_ll(rng)), "worse": _tree(_ll(rng, shift=-0.2))})
    assert list(table.index) == ["good", "worse"]
    assert table.loc["worse", "elpd_diff"] < 0
    assert {"elpd", "se", "weight", "n_high_pareto_k", "max_pareto_k"} <= set(table.columns)


def test_compare_refuses_different_subjects():
    rng = np.random.default_rng(4)
    with pytest.raises(DataError, match="same data"):
        compare_fits({"a": _tree(_ll(rng, n=40)), "b": _tree(_ll(rng, n=30))})


def test_missing_log_likelihood_is_bad_input():
    tree = az.from_dict({"posterior": {"x": np.zeros((1, 10))}})
    with pytest.raises(DataError, match="log_likelihood"):
        loo(tree)


def test_compare_dirs_and_cli(tmp_path, capsys):
    rng = np.random.default_rng(5)
    for name, shift in [("m1", 0.0), ("m2", -0.3)]:
        (tmp_path / name).mkdir()
        _tree(_ll(rng, shift), name=f"spec_{name}").to_netcdf(tmp_path / name / "posterior.nc")
    table = compare_dirs([tmp_path / "m1", tmp_path / "m2"])
    assert list(table.index) == ["spec_m1", "spec_m2"]
    assert main(["compare", str(tmp_path / "m1"), str(tmp_path / "m2")]) == 0
    out = capsys.readouterr().out
    assert "spec_m1" in out and "elpd" in out
    assert main(["compare", str(tmp_path / "m1"), str(tmp_path / "nope")]) == 2
    assert "posterior.nc" in capsys.readouterr().err


def test_xarray_roundtrip_keeps_group(tmp_path):
    rng = np.random.default_rng(6)
    _tree(_ll(rng)).to_netcdf(tmp_path / "p.nc")
    assert "log_likelihood" in xr.open_datatree(tmp_path / "p.nc").children


def _with_data(tree, time):
    out = tree.copy()
    n = time.size
    out["observed_data"] = xr.DataTree(
        xr.Dataset(
            {"time": ("subject", time), "event": ("subject", (np.arange(n) % 2).astype(np.int64))},
            coords={"subject": np.arange(1, n + 1)},
        )
    )
    return out


def test_compare_refuses_fits_of_other_data_with_the_same_n(tmp_path, capsys):
    """Issue 22: compare accepted fits of different data with the same number of subjects."""
    rng = np.random.default_rng(7)
    time = rng.uniform(1, 50, 40)
    same = {"a": _with_data(_tree(_ll(rng)), time), "b": _with_data(_tree(_ll(rng)), time)}
    assert len(compare_fits(same)) == 2
    other = {"a": same["a"], "b": _with_data(_tree(_ll(rng)), time * 1.5)}
    with pytest.raises(DataError, match="different observed data") as info:
        compare_fits(other)
    assert info.value.rules == ["same_data"]
    for name, tree in other.items():
        (tmp_path / name).mkdir()
        tree.to_netcdf(tmp_path / name / "posterior.nc")
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "[same_data]" in err and "Traceback" not in err


def test_observed_data_hash_survives_netcdf(tmp_path):
    from necc_bayes.inference.loo import observed_data_hash

    rng = np.random.default_rng(8)
    tree = _with_data(_tree(_ll(rng)), rng.uniform(1, 50, 40))
    tree.to_netcdf(tmp_path / "p.nc")
    assert observed_data_hash(xr.open_datatree(tmp_path / "p.nc")) == observed_data_hash(tree)
    assert observed_data_hash(_tree(_ll(rng))) is None


def test_compare_cli_in_a_fresh_process(tmp_path):
    # `necc-bayes compare` as a user runs it: nothing imported before (the in-process test
    # above passes even when the ArviZ accessors are registered only by an earlier import)
    import subprocess
    import sys

    rng = np.random.default_rng(9)
    for name, shift in [("m1", 0.0), ("m2", -0.3)]:
        (tmp_path / name).mkdir()
        _tree(_ll(rng, shift), name=f"spec_{name}").to_netcdf(tmp_path / name / "posterior.nc")
    code = "import sys; from necc_bayes.cli.main import main; sys.exit(main(sys.argv[1:]))"
    run = subprocess.run(
        [sys.executable, "-c", code, "compare", str(tmp_path / "m1"), str(tmp_path / "m2")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "spec_m1" in run.stdout and "elpd" in run.stdout
