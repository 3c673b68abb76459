"""Compile a PyMC model for nutpie once per model structure, and reuse it in every process.

``nutpie.compile_pymc_model`` pays numba compilation again in every new Python process
(10–15 s for an 88-patient model, issue 21), although what is compiled depends only on the
model's *structure*: :func:`compile_model` builds the same nutpie model with callbacks that
numba can cache on disk (:mod:`necc_bayes.inference.cfuncs`), so a second fit of the same
specification — or of one that differs only in data or in prior values held in ``pm.Data`` —
loads the machine code instead of compiling it.

The cache
---------
* **Where**: ``$NECC_BAYES_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/necc-bayes``, else
  ``~/.cache/necc-bayes``; compiled code lives in ``compiled/<stack>/`` below it.
  ``NECC_BAYES_COMPILE_CACHE=off`` compiles in every process instead (same draws).
  ``necc-bayes cache info`` shows it, ``necc-bayes cache clear`` (:func:`clear_cache`) empties it.
* **Keyed by structure**: the name of each entry is a hash of the callback's source text and of
  pytensor's cache key of the log-density (and trace) graph, which depends on the graph's
  operations and constants, not on the values of ``pm.Data`` containers (data, prior
  hyperparameters) or their lengths (number of patients, patterns or intervals).
* **Safe when the stack changes**: ``<stack>`` is a hash of the versions of necc-bayes, PyMC,
  pytensor, nutpie, numba, llvmlite, numpy, scipy and Python, of this module's cache format,
  and of the CPU (name and features, as numba targets it); numba also refuses an index written
  by another numba version. pytensor's own numba cache for these functions is redirected into
  the same directory, so it is versioned and cleared with it.
* **Concurrent processes**: numba writes every file to a temporary name and renames it; the
  compilation itself runs under an exclusive lock on ``compiled/<stack>/.lock``, so two cold
  processes never write the same entries at once (the second waits, then loads).
* **Same draws, cold or warm**: everything is compiled with pytensor's ``numba__fastmath``
  off. With fast-math (pytensor's default: ``contract``, ``reassoc``, ...) LLVM may fuse and
  reorder floating-point operations differently in a freshly compiled function and in the
  same function loaded from the cache (the code around it differs), and the draws of a fixed
  seed then differed in the 13th digit (issue 22). Without it every variant computes the
  same IEEE result: cold and warm draws are bit-identical (tested). It costs nothing
  measurable here (no SVML on the benchmark machine; the log density is dominated by exp and
  matrix products).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from necc_bayes._version import __version__
from necc_bayes.inference import cfuncs

if TYPE_CHECKING:
    import pymc as pm

CACHE_FORMAT = 1
"""Bump when the layout of the cached callbacks changes."""

ENV_DIR = "NECC_BAYES_CACHE_DIR"
ENV_SWITCH = "NECC_BAYES_COMPILE_CACHE"

STACK_PACKAGES = ("pymc", "pytensor", "nutpie", "numba", "llvmlite", "numpy", "scipy")

_PROCESS_LOCK = threading.RLock()


@dataclass(frozen=True)
class CompileResult:
    """A compiled nutpie model and how it was obtained.

    Attributes
    ----------
    compiled : nutpie CompiledPyMCModel
        Ready for ``nutpie.sample`` (and ``with_data``).
    from_cache : bool
        Both callbacks were loaded from the persistent cache (nothing compiled by numba).
    seconds : float
        Wall time of :func:`compile_model`.
    key : str or None
        pytensor's cache keys of the two graphs (None when not cached).
    """

    compiled: Any
    from_cache: bool
    seconds: float
    key: str | None


@dataclass(frozen=True)
class CacheInfo:
    """What the cache directory holds.

    Attributes
    ----------
    root : Path
        The cache root (``$NECC_BAYES_CACHE_DIR`` or the user cache directory).
    stacks : int
        Subdirectories for different package versions / CPUs.
    entries : int
        Cached functions (numba index files).
    bytes : int
        Total size on disk.
    """

    root: Path
    stacks: int
    entries: int
    bytes: int


def cache_root() -> Path:
    """``$NECC_BAYES_CACHE_DIR``, else ``$XDG_CACHE_HOME/necc-bayes``, else ``~/.cache/...``."""
    explicit = os.environ.get(ENV_DIR)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "necc-bayes"


def cache_enabled() -> bool:
    """False when ``NECC_BAYES_COMPILE_CACHE`` is ``off``/``0``/``false``/``no``."""
    return os.environ.get(ENV_SWITCH, "on").strip().lower() not in ("off", "0", "false", "no")


def stack_fingerprint() -> dict[str, str]:
    """Everything compiled code depends on besides the model: versions, Python, CPU."""
    from numba.core.registry import cpu_target

    out = {"necc_bayes": __version__, "cache_format": str(CACHE_FORMAT)}
    for name in STACK_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["python"] = sys.version.split()[0] + sys.abiflags
    triple, cpu, features = cpu_target.target_context.codegen().magic_tuple()
    out.update(target=str(triple), cpu=str(cpu), cpu_features=str(features))
    return out


def compile_dir() -> Path:
    """``<root>/compiled/<hash of stack_fingerprint()>``, with a ``stack.json`` describing it."""
    stack = stack_fingerprint()
    tag = hashlib.sha256(json.dumps(stack, sort_keys=True).encode()).hexdigest()[:16]
    directory = cache_root() / "compiled" / tag
    directory.mkdir(parents=True, exist_ok=True)
    described = directory / "stack.json"
    if not described.exists():
        tmp = directory / f".stack.{uuid.uuid4().hex}"
        tmp.write_text(json.dumps(stack, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, described)
    return directory


def cache_info() -> CacheInfo:
    """Count what ``<root>/compiled`` holds."""
    root = cache_root()
    compiled = root / "compiled"
    files = [p for p in compiled.rglob("*") if p.is_file()] if compiled.is_dir() else []
    stacks = [p for p in compiled.iterdir() if p.is_dir()] if compiled.is_dir() else []
    return CacheInfo(
        root=root,
        stacks=len(stacks),
        entries=sum(1 for p in files if p.suffix == ".nbi"),
        bytes=sum(p.stat().st_size for p in files),
    )


def clear_cache() -> CacheInfo:
    """Remove every compiled entry (``<root>/compiled``); return what was there.

    The directory is first renamed away, so a process loading from it meanwhile either sees
    the old entries or none (then compiles); it never sees half a directory.
    """
    before = cache_info()
    compiled = before.root / "compiled"
    if compiled.is_dir():
        trash = before.root / f".compiled-removed-{uuid.uuid4().hex}"
        os.replace(compiled, trash)
        shutil.rmtree(trash, ignore_errors=True)
    return before


@contextlib.contextmanager
def deterministic_numba() -> Iterator[None]:
    """Compile pytensor functions with fast-math off (see the module docstring).

    The Python source pytensor generates for numba is written to ``generated_src/`` below the
    cache root, one file per distinct source (content-addressed, so reused by every process),
    instead of a new temporary file per function that pytensor never removes (about 13 files
    in ``$TMPDIR`` per fit, issue 22). With the cache switched off nothing is written below
    the cache root: the sources go to a temporary directory removed afterwards.
    """
    import pytensor

    with contextlib.ExitStack() as stack:
        if cache_enabled():
            src = str(cache_root() / "generated_src")
        else:
            src = stack.enter_context(tempfile.TemporaryDirectory(prefix="necc-bayes-src-"))
        with pytensor.config.change_flags(numba__fastmath=False, generated_src_dir=src):
            yield


@contextlib.contextmanager
def _pytensor_cache_in(directory: Path) -> Iterator[None]:
    """Send pytensor's numba cache entries made meanwhile to ``directory``."""
    from pytensor.link.numba import cache as pytensor_cache

    directory.mkdir(parents=True, exist_ok=True)
    old = pytensor_cache.NUMBA_CACHE_PATH
    pytensor_cache.NUMBA_CACHE_PATH = directory
    try:
        yield
    finally:
        pytensor_cache.NUMBA_CACHE_PATH = old


@contextlib.contextmanager
def _exclusive(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory/.lock`` (POSIX ``flock``; other OSes: no lock)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(directory / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def compile_model(model: pm.Model) -> CompileResult:
    """Compile ``model`` for ``nutpie.sample``, loading it from the persistent cache if it is there.

    Parameters
    ----------
    model : pymc.Model
        Any PyMC model nutpie's numba backend supports.

    Returns
    -------
    CompileResult
        The nutpie model (the same log density, gradient, trace variables, initial points and
        ``with_data`` as ``nutpie.compile_pymc_model(model)`` with fast-math off) and whether
        it came from the cache.
    """
    start = time.perf_counter()
    with _PROCESS_LOCK, deterministic_numba():
        if not cache_enabled():
            import nutpie

            compiled = nutpie.compile_pymc_model(model)
            return CompileResult(compiled, False, time.perf_counter() - start, None)
        directory = compile_dir()
        with _pytensor_cache_in(directory / "pytensor"):
            compiled, hit, key = _compile_cached(model, directory)
    return CompileResult(compiled, hit, time.perf_counter() - start, key)


def _compile_cached(model: pm.Model, directory: Path) -> tuple[Any, bool, str | None]:
    import numpy as np
    import nutpie
    from nutpie import compile_pymc as npc
    from pymc.initial_point import make_initial_point_fn
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    # what nutpie.compile_pymc_model(model) does up to its numba.cfunc calls (nutpie 0.16)
    point_fn = npc._wrap_with_lock(
        make_initial_point_fn(
            model=model,
            default_strategy="support_point",
            jitter_rvs=set(model.free_RVs),
            return_transformed=True,
        )
    )
    n_dim, n_expanded, logp_fn, expand_fn, initial_point_fn, shape_info, reparam = (
        npc._make_functions(
            model,
            mode="NUMBA",
            compute_grad=True,
            join_expanded=True,
            pymc_initial_point_fn=point_fn,
        )
    )
    logp_inner, expand_inner = logp_fn.vm.jit_fn, expand_fn.vm.jit_fn
    keys = tuple(CACHED_SRC_FUNCTIONS.get(f.py_func) for f in (logp_inner, expand_inner))
    if keys[0] is None or keys[1] is None:
        # an operation pytensor cannot cache: nutpie's own (uncached) compilation
        return nutpie.compile_pymc_model(model), False, None

    shared_data: dict[str, np.ndarray] = {}
    shared_keys: dict[Any, str] = {}
    for var in [*logp_fn.get_shared(), *expand_fn.get_shared()]:
        if var not in shared_keys:
            key = f"v{len(shared_keys)}"
            value = np.array(var.get_value(), order="C", copy=True)
            value.flags.writeable = False
            shared_data[key], shared_keys[var] = value, key
    layout = list(shared_keys.values())
    logp_src = cfuncs.logp_source(
        n_dim, [shared_keys[v] for v in logp_fn.get_shared()], layout, shared_data
    )
    expand_src = cfuncs.expand_source(
        n_dim, n_expanded, [shared_keys[v] for v in expand_fn.get_shared()], layout, shared_data
    )
    with _exclusive(directory):
        logp_c = cfuncs.compile_cfunc(
            logp_src, logp_inner, cfuncs.logp_signature(), directory, keys[0]
        )
        expand_c = cfuncs.compile_cfunc(
            expand_src, expand_inner, cfuncs.expand_signature(), directory, keys[1]
        )
    dims, coords = npc._prepare_dims_and_coords(model, shape_info, reparam)
    compiled = npc.CompiledPyMCModel(
        _n_dim=n_dim,
        dims=dims,
        _coords=coords,
        _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info, strict=True)},
        compiled_logp_func=logp_c,
        compiled_expand_func=expand_c,
        initial_point_func=initial_point_fn,
        shared_data=shared_data,
        shared_var_keys=shared_keys,
        user_data=npc.make_user_data(shared_keys, shared_data),
        n_expanded=n_expanded,
        shape_info=shape_info,
        logp_func=logp_fn,
        expand_func=expand_fn,
        reparameterized_names=reparam,
    )
    hit = logp_c.cache_hits > 0 and expand_c.cache_hits > 0
    return compiled, hit, f"{keys[0]}|{keys[1]}"
