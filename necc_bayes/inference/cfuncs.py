"""nutpie's C callbacks as generated source text, so that numba can cache them on disk.

nutpie samples a PyMC model through two ``numba.cfunc`` callbacks: the log density with its
gradient, and the "expand" function (deterministics for the trace). Its own callbacks read the
model's shared data (``pm.Data``) from a ``user_data`` record whose field names are fresh
``uuid4`` strings and are built from closures, so numba can never cache them and every new
process compiles them again (10–15 s for the smallest model; issue 21).

The callbacks below do the same thing with the same ``user_data`` layout (nutpie's
``make_user_data``: data pointers, then sizes, then shapes, all 8-byte unsigned integers), but
as plain source text with fixed names (``v0``, ``v1``, ...): nothing about them changes between
processes, so numba's on-disk cache applies. A cache locator (put first in numba's list) sends
them, and only them, to the directory :mod:`necc_bayes.inference.compile_cache` chooses, under
a name derived from the source text and the cache keys of the pytensor functions they call.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

# py_func -> (directory, disambiguator); read by _Locator when numba sets up a cache
_REGISTRY: weakref.WeakKeyDictionary[Callable[..., Any], tuple[Path, str]] = (
    weakref.WeakKeyDictionary()
)
_INSTALL_LOCK = threading.Lock()
_INSTALLED: list[type] = []

_DTYPE_NAMES = {
    np.dtype("float64"): "np.float64",
    np.dtype("float32"): "np.float32",
    np.dtype("int64"): "np.int64",
    np.dtype("int32"): "np.int32",
    np.dtype("int8"): "np.int8",
    np.dtype("uint8"): "np.uint8",
    np.dtype("bool"): "np.bool_",
}


def _install_locator() -> None:
    """Put ``_Locator`` first in numba's list of cache locators (once per process)."""
    with _INSTALL_LOCK:
        if not _INSTALLED:
            _INSTALLED.append(_make_locator())


def _make_locator() -> type:
    from numba.core.caching import CacheImpl, _CacheLocator

    class _Locator(_CacheLocator):
        """Cache location of the registered callbacks: our directory, our disambiguator."""

        def __init__(self, py_func: Callable[..., Any], py_file: str, where: tuple[Path, str]):
            self._py_func = py_func
            self._py_file = py_file
            self._dir, self._key = where

        def ensure_cache_path(self) -> None:
            self._dir.mkdir(parents=True, exist_ok=True)

        def get_cache_path(self) -> str:
            return str(self._dir)

        def get_source_stamp(self) -> int:
            # the source text is in the disambiguator; there is no file to stamp
            return 0

        def get_disambiguator(self) -> str:
            return self._key

        @classmethod
        def from_function(cls, py_func: Callable[..., Any], py_file: str) -> _Locator | None:
            where = _REGISTRY.get(py_func)
            return None if where is None else cls(py_func, py_file, where)

    CacheImpl._locator_classes.insert(0, _Locator)  # type: ignore[arg-type]
    return _Locator


def _unpack_lines(
    used: Sequence[str], layout: Sequence[str], data: dict[str, np.ndarray]
) -> tuple[list[str], list[str]]:
    """Source lines that bind ``a0, a1, ...`` to the shared arrays ``used`` from user_data."""
    k = len(layout)
    shape_at: dict[str, int] = {}
    offset = 2 * k
    for key in layout:
        shape_at[key] = offset
        offset += data[key].ndim
    lines = [f"ud = carray(user_data_, ({offset},), np.uint64)"]
    names = []
    for i, key in enumerate(used):
        j = layout.index(key)
        arr = data[key]
        dims = [f"np.intp(ud[{shape_at[key] + d}])" for d in range(arr.ndim)]
        shape = f"({dims[0]},)" if arr.ndim == 1 else f"({', '.join(dims)})"
        lines.append(
            f"a{i} = carray(address_as_void_pointer(ud[{j}]), (np.intp(ud[{k + j}]),), "
            f"{_DTYPE_NAMES[arr.dtype]}).reshape({shape})"
        )
        names.append(f"a{i}")
    return lines, names


def logp_source(
    n_dim: int, used: Sequence[str], layout: Sequence[str], data: dict[str, np.ndarray]
) -> str:
    """Source of the log-density callback (nutpie's return codes: 0 ok, 1 error, 3/4 non-finite)."""
    lines, names = _unpack_lines(used, layout, data)
    body = "\n        ".join(lines)
    args = ", ".join(["x", *names])
    return f"""
def necc_bayes_logp(dim, x_, out_, logp_, user_data_):
    if dim != {n_dim}:
        return -1
    try:
        x = carray(x_, ({n_dim},))
        out = carray(out_, ({n_dim},))
        logp = carray(logp_, ())
        {body}
        logp_val, grad = inner({args})
        logp[()] = logp_val
        out[...] = grad
        if not np.all(np.isfinite(out)):
            return 3
        if not np.isfinite(logp_val):
            return 4
    except Exception:
        return 1
    return 0
"""


def expand_source(
    n_dim: int,
    n_expanded: int,
    used: Sequence[str],
    layout: Sequence[str],
    data: dict[str, np.ndarray],
) -> str:
    """Source of the callback that computes every traced variable from the sampled point."""
    lines, names = _unpack_lines(used, layout, data)
    body = "\n        ".join(lines)
    args = ", ".join(["x", *names])
    return f"""
def necc_bayes_expand(dim, expanded, x_, out_, user_data_):
    if dim != {n_dim}:
        return -1
    if expanded != {n_expanded}:
        return -1
    try:
        x = carray(x_, ({n_dim},))
        out = carray(out_, ({n_expanded},))
        {body}
        (values,) = inner({args})
        out[...] = values
    except Exception:
        return -2
    return 0
"""


def compile_cfunc(
    source: str, inner: Callable[..., Any], signature: Any, directory: Path, key: str
) -> Any:
    """Compile (or load from ``directory``) the callback defined by ``source``.

    Parameters
    ----------
    source : str
        One ``def`` from :func:`logp_source` or :func:`expand_source`.
    inner : numba dispatcher
        The pytensor-generated function the callback calls.
    signature : numba signature
        The C signature nutpie expects.
    directory : Path
        Cache directory.
    key : str
        What identifies ``inner`` (pytensor's cache key of its graph).

    Returns
    -------
    numba.core.ccallback.CFunc
        ``.cache_hits`` is 1 when it was loaded rather than compiled.
    """
    import numba
    from nutpie.compile_pymc import address_as_void_pointer

    _install_locator()
    name = source.split("def ", 1)[1].split("(", 1)[0]
    env: dict[str, Any] = {
        # an importable module name: numba's cached environments are rebuilt from it
        "__name__": __name__,
        "np": np,
        "carray": numba.carray,
        "address_as_void_pointer": address_as_void_pointer,
        "inner": inner,
    }
    local: dict[str, Any] = {}
    exec(compile(source, f"<{name}>", "exec"), env, local)  # our own template, filled with integers
    func = local[name]
    disambiguator = hashlib.sha256(f"{source}\0{key}".encode()).hexdigest()[:32]
    _REGISTRY[func] = (directory, disambiguator)
    return numba.cfunc(signature, cache=True)(func)


def logp_signature() -> Any:
    """``int64(uint64 dim, double* x, double* grad, double* logp, void* user_data)``."""
    from numba import types

    ptr = types.CPointer(types.double)
    return types.int64(types.uint64, ptr, ptr, ptr, types.voidptr)


def expand_signature() -> Any:
    """``int64(uint64 dim, uint64 expanded, double* x, double* out, void* user_data)``."""
    from numba import types

    ptr = types.CPointer(types.double)
    return types.int64(types.uint64, types.uint64, ptr, ptr, types.voidptr)
