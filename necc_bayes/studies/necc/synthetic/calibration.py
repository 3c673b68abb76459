"""Calibration of the SYNTHETIC cohort: every published margin beside the synthetic value.

Each row has a ``target``: ``exact`` (must match), ``tolerance`` (within ``tolerance`` on
the ``scale`` given), ``conflict`` (the paper contradicts itself; the other published
number is the one hit, see ``note``) or ``reported`` (shown for comparison, not targeted).
"""

import pandas as pd

from necc_bayes.studies.necc.synthetic.calibration_outcomes import (
    survival_rows,
    text_rows,
    univariate_rows,
)
from necc_bayes.studies.necc.synthetic.calibration_rows import (
    COLUMNS,
    table1_rows,
    table2_rows,
    table4_rows,
)

__all__ = ["COLUMNS", "calibration_table"]


def calibration_table(df: pd.DataFrame) -> pd.DataFrame:
    """Return every published margin beside the synthetic cohort's value.

    Parameters
    ----------
    df : pandas.DataFrame
        A synthetic cohort (output of
        :func:`necc_bayes.studies.necc.synthetic.generate.generate_cohort`).

    Returns
    -------
    pandas.DataFrame
        Columns ``source, item, group, published, synthetic, difference, target,
        tolerance, scale, ok, note``.
    """
    rows = (
        table1_rows(df)
        + table2_rows(df)
        + table4_rows(df)
        + text_rows(df)
        + survival_rows(df)
        + univariate_rows(df)
    )
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    for column in ("published", "synthetic", "difference", "tolerance"):
        table[column] = table[column].astype(float).round(4)
    table["ok"] = table["ok"].astype("boolean")
    return table
