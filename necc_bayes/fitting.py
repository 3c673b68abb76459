"""Deprecated import path kept for one release: use ``import necc_bayes as nb`` and ``nb.fit``.

``from necc_bayes.fitting import fit`` (documented in the 0.1 README) still works and emits a
:class:`DeprecationWarning`; it will be removed in 0.3.
"""

from __future__ import annotations

import warnings

from necc_bayes.survival.fit import PEMResult, fit

warnings.warn(
    "necc_bayes.fitting is deprecated and will be removed in 0.3; use `import necc_bayes as nb` "
    "and nb.fit / nb.PEMResult",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["PEMResult", "fit"]
