"""The main job: the full Bayesian re-analysis of the study on bundled data (stub)."""

from __future__ import annotations

from pathlib import Path


def run_reproduce(out: str | Path, *, overwrite: bool = False, quiet: bool = False) -> Path:
    """Run the re-analysis and write every table and figure to ``out`` (not yet implemented).

    Parameters
    ----------
    out : str or Path
        Output directory.
    overwrite : bool
        Replace a non-empty ``out``.
    quiet : bool
        Suppress progress output.

    Returns
    -------
    Path
        The output directory.
    """
    out = Path(out)
    if not quiet:
        print(  # noqa: T201
            "necc-bayes reproduce: the full re-analysis is not implemented yet. It will fit the\n"
            "univariate, multivariable and hierarchical site PEMs to the bundled SYNTHETIC\n"
            "cohort,"
            "compare them with the paper's Table 3, and write tables, figures and report.html\n"
            f"to {out}/."
        )
    return out
