"""Posterior predictive Kaplan–Meier bands per covariate level (``ppc.py`` by group).

For every covariate whose design columns are all 0/1 (a binary term, the dummies of a
categorical or the cumulative dummies of an ordinal covariate) each subject gets a level label
(:func:`covariate_groups`); ``ppc.group_bands`` computes, per level, the observed Kaplan–Meier
curve and the pointwise band of the same replicate cohorts' curves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from necc_bayes.data.design import Design

GROUP_COLUMNS = ["covariate", "level", "n", "n_events", "time", "observed", "low", "median", "high"]
"""Columns of :attr:`PPCResult.groups` (one row per covariate level and grid time)."""


def covariate_groups(
    design: Design, categorical_references: dict[str, str]
) -> dict[str, np.ndarray]:
    """Level label of every subject for each covariate whose design columns are all 0/1.

    A plain 0/1 term gives levels ``"0"`` and ``"1"``; the dummies ``col[level]`` of a
    categorical give the level names (the reference where every dummy is 0); the cumulative
    dummies of an ordinal give the highest ``col>=level`` that is 1 (``"below ..."`` when none).

    Parameters
    ----------
    design : Design
        The cohort's design (uncentred ``X``, term names, source columns).
    categorical_references : dict
        Reference level of each categorical covariate.

    Returns
    -------
    dict
        Covariate (source column) -> labels, shape (n,), in the order of the design.
    """
    out: dict[str, np.ndarray] = {}
    binary = design.binary
    for src in dict.fromkeys(design.source):
        cols = [k for k, s in enumerate(design.source) if s == src]
        if not all(binary[k] for k in cols):
            continue
        X = design.X[:, cols]
        terms = [design.terms[k] for k in cols]
        if len(cols) == 1 and terms[0] == src:
            out[src] = np.where(X[:, 0] == 1, "1", "0")
            continue
        if src in categorical_references:
            names = [t[len(src) + 1 : -1] for t in terms]
            none = categorical_references[src]
            labels = np.full(X.shape[0], none, dtype=object)
            for k, name in enumerate(names):
                labels[X[:, k] == 1] = name
        else:  # cumulative dummies: the highest that is 1
            labels = np.full(X.shape[0], f"below {terms[0]}", dtype=object)
            for k, name in enumerate(terms):
                labels[X[:, k] == 1] = name
        out[src] = labels.astype(str)
    return out
