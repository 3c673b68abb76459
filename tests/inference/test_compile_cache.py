"""The persistent compile cache (issue 21) and same draws from a cold or warm cache (issue 22).

Fast tests: where the cache lives, what its key depends on, clearing, and the layout the
generated callbacks read (checked against nutpie's own ``make_user_data`` record).
Slow tests run real processes (about 60–90 s in all on 2 cores): two cold processes at once on
an empty cache, then a warm one, then one with the cache bypassed — same draws bit for bit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from necc_bayes.cli.main import main
from necc_bayes.inference import cfuncs, compile_cache

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cache_env(tmp_path, monkeypatch):
    monkeypatch.setenv(compile_cache.ENV_DIR, str(tmp_path / "cache"))
    monkeypatch.delenv(compile_cache.ENV_SWITCH, raising=False)
    return tmp_path / "cache"


def test_root_is_the_env_var_else_xdg_else_home(tmp_path, monkeypatch):
    monkeypatch.setenv(compile_cache.ENV_DIR, str(tmp_path / "explicit"))
    assert compile_cache.cache_root() == tmp_path / "explicit"
    monkeypatch.delenv(compile_cache.ENV_DIR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert compile_cache.cache_root() == tmp_path / "xdg" / "necc-bayes"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert compile_cache.cache_root() == tmp_path / "home" / ".cache" / "necc-bayes"


@pytest.mark.parametrize(
    "value, enabled", [("off", False), ("0", False), ("OFF ", False), ("on", True)]
)
def test_switch(monkeypatch, value, enabled):
    monkeypatch.setenv(compile_cache.ENV_SWITCH, value)
    assert compile_cache.cache_enabled() is enabled


def test_stack_directory_changes_with_every_version_and_the_format(cache_env, monkeypatch):
    base = compile_cache.compile_dir()
    assert base.parent == cache_env / "compiled"
    stack = json.loads((base / "stack.json").read_text())
    assert {"pymc", "pytensor", "nutpie", "numba", "llvmlite", "numpy", "cpu"} <= set(stack)
    real_version = compile_cache.importlib.metadata.version
    for package in compile_cache.STACK_PACKAGES:
        monkeypatch.setattr(
            compile_cache.importlib.metadata,
            "version",
            lambda name, p=package: "0.0.0-other" if name == p else real_version(name),
        )
        assert compile_cache.compile_dir() != base, package
    monkeypatch.setattr(compile_cache.importlib.metadata, "version", real_version)
    assert compile_cache.compile_dir() == base
    monkeypatch.setattr(compile_cache, "__version__", "9.9.9")
    assert compile_cache.compile_dir() != base
    monkeypatch.setattr(compile_cache, "__version__", stack["necc_bayes"])
    monkeypatch.setattr(compile_cache, "CACHE_FORMAT", compile_cache.CACHE_FORMAT + 1)
    assert compile_cache.compile_dir() != base


def test_clear_removes_every_entry_and_reports_them(cache_env, capsys):
    directory = compile_cache.compile_dir()
    for name in ("a.nbi", "a.1.nbc", "pytensor/b.nbi"):
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(b"x" * 10)
    info = compile_cache.cache_info()
    assert (info.root, info.stacks, info.entries) == (cache_env, 1, 2)
    assert main(["cache", "info"]) == 0
    assert "holds 2 compiled functions" in capsys.readouterr().out
    assert main(["cache", "clear"]) == 0
    assert "removed 2 compiled functions" in capsys.readouterr().out
    assert not (cache_env / "compiled").exists()
    assert compile_cache.cache_info().entries == 0
    assert list(cache_env.iterdir()) == []  # the renamed-away copy is gone too


def _data() -> dict[str, np.ndarray]:
    return {
        "v0": np.arange(6.0).reshape(3, 2),
        "v1": np.array([1, 2, 3, 4], dtype=np.int64),
        "v2": np.array(2.5),
    }


def test_callback_source_has_no_process_specific_names():
    data = _data()
    a = cfuncs.logp_source(2, ["v1", "v0"], ["v0", "v1", "v2"], data)
    b = cfuncs.logp_source(2, ["v1", "v0"], ["v0", "v1", "v2"], _data())
    assert a == b  # same structure -> same text -> same cache entry
    assert "uuid" not in a and "0x" not in a
    # the shapes, not the values or lengths, of the data enter the text
    longer = {**data, "v0": np.zeros((300, 2))}
    assert cfuncs.logp_source(2, ["v1", "v0"], ["v0", "v1", "v2"], longer) == a
    other_rank = {**data, "v1": np.zeros((4, 1), dtype=np.int64)}
    assert cfuncs.logp_source(2, ["v1", "v0"], ["v0", "v1", "v2"], other_rank) != a
    assert cfuncs.expand_source(2, 5, ["v2"], ["v0", "v1", "v2"], data) != a


def test_callbacks_read_nutpies_user_data_layout():
    """The word offsets the generated code reads are where nutpie's record puts each field."""
    from nutpie.compile_pymc import make_user_data

    data = _data()

    class Var:  # what make_user_data reads from a shared variable: its rank
        def __init__(self, ndim: int):
            self.ndim = ndim

    keys = {Var(a.ndim): k for k, a in data.items()}
    record = make_user_data(keys, data)
    words = np.frombuffer(record.tobytes(), dtype=np.uint64)
    lines, names = cfuncs._unpack_lines(["v1", "v0", "v2"], ["v0", "v1", "v2"], data)
    assert names == ["a0", "a1", "a2"]
    assert lines[0] == f"ud = carray(user_data_, ({len(words)},), np.uint64)"

    def index(text: str) -> list[int]:
        return [int(p.split("]")[0]) for p in text.split("ud[")[1:]]

    for line, key in zip(lines[1:], ["v1", "v0", "v2"], strict=True):
        pointer, size, *shape = index(line)
        arr = data[key]
        assert words[pointer] == arr.ctypes.data
        assert words[size] == arr.size
        assert [int(words[i]) for i in shape] == list(arr.shape)
    assert "np.int64" in lines[1] and "np.float64" in lines[2]


SCRIPT = r"""
import hashlib, json, sys
import numpy as np
from necc_bayes.inference import compile_cache
from necc_bayes.spec.settings import SamplerSettings
from necc_bayes.survival import sampling
from necc_bayes.survival.fit import model_inputs, model_priors, resolve_spec
from necc_bayes.survival.inputs import check_inputs
from necc_bayes.survival.model import build_model

hits = []
real = compile_cache.compile_model
def counting(model):
    out = real(model)
    hits.append(out.from_cache)
    return out
sampling.compile_model = counting

checked = check_inputs("models/prs_final.toml", "data/synthetic/necc_synthetic_cohort.csv")
resolved = resolve_spec(checked)
inputs, priors = model_inputs(checked), model_priors(resolved)
settings = SamplerSettings(draws=40, tune=40, chains=2, seed=11)
tree = sampling.sample_posterior(inputs, priors, settings, progressbar=False)
digest = hashlib.sha256()
for group, name in [("posterior", "log_hr"), ("posterior", "baseline_hazard"),
                    ("log_prior", "log_hr_normal"), ("log_likelihood", "survival")]:
    digest.update(np.ascontiguousarray(tree[group][name].to_numpy()).tobytes())
if sys.argv[1] == "more":
    # same structure, other data values and prior values: loaded, not compiled
    import dataclasses
    half = dataclasses.replace(inputs, X=inputs.X[:, ::-1].copy())
    wider = dataclasses.replace(priors, coefficients={
        t: p.model_copy(update={"sigma": 3.0}) for t, p in priors.coefficients.items()})
    sampling.compile_model(build_model(half, wider, warn=False))
print(json.dumps({"digest": digest.hexdigest(), "hits": hits}))
"""


def _run(cache_dir: Path, *args: str, switch: str = "on") -> subprocess.Popen:
    env = {**os.environ, compile_cache.ENV_DIR: str(cache_dir), compile_cache.ENV_SWITCH: switch}
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.slow
def test_cold_and_warm_cache_give_identical_draws_and_concurrent_writers_are_safe(tmp_path):
    cache = tmp_path / "cache"
    # two processes start together on an empty cache: both compile (or one waits and loads)
    first, second = _run(cache, "plain"), _run(cache, "plain")
    a, b = _result(first), _result(second)
    warm = _result(_run(cache, "more"))
    bypassed = _result(_run(tmp_path / "unused", "plain", switch="off"))
    assert a["digest"] == b["digest"] == warm["digest"] == bypassed["digest"]
    assert a["hits"] == [False] or b["hits"] == [False]  # at least one really compiled
    assert warm["hits"] == [True, True]  # the fit, then other data and prior values
    assert bypassed["hits"] == [False] and not (tmp_path / "unused").exists()
    index_files = list((cache / "compiled").rglob("necc_bayes_*.nbi"))
    assert len(index_files) == 2  # one log density, one trace function: no duplicates
    assert not list((cache / "compiled").rglob("*.tmp.*"))  # no half-written files
