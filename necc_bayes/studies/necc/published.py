"""The study's published numbers as data: Tables 1–5 and the outcome numbers of the text.

Every value is exactly as printed in the paper (``shared/paper/necc_recurrence_study.txt``);
provenance and every internal inconsistency are documented in ``data/README.md``.
These are *published* aggregates, never the synthetic cohort (see
:mod:`necc_bayes.studies.necc.synthetic.generate`).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from necc_bayes.data.bundled import bundled_path
from necc_bayes.errors import Problem, SpecError

TABLES: dict[str, str] = {
    "table1": "Patient, tumour and initial treatment characteristics (one row per printed cell)",
    "table2": "Initial site of recurrence (sites overlap; counts sum past 88)",
    "table3": "Univariate and multivariable Cox analysis of PRS (long format, one row per model)",
    "table4": "Characteristics with vs without abdominal organ recurrence (long format)",
    "table5": "Response to PD-1 inhibitors in 16 individual patients",
}

RESPONSES: tuple[str, ...] = ("CR", "PR", "SD", "PD")

_DTYPES: dict[str, dict[str, str]] = {
    "table1": {
        "variable": "string",
        "category": "string",
        "subcategory": "string",
        "level": "string",
        "statistic": "string",
        "unit": "string",
    },
    "table2": {"site": "string", "site_as_printed": "string", "term": "string", "unit": "string"},
    "table3": {
        "section": "string",
        "label_as_printed": "string",
        "term": "string",
        "hr_refers_to": "string",
        "direction_basis": "string",
        "model": "string",
        "p_printed": "string",
        "hr_printed": "string",
        "ci_printed": "string",
    },
    "table4": {
        "variable_as_printed": "string",
        "term": "string",
        "group": "string",
        "percent_printed": "string",
    },
    "table5": {
        "pd1_drug": "string",
        "regimen_as_printed": "string",
        "regimen": "string",
        "best_response": "string",
        "initial_sites_as_printed": "string",
        "initial_sites": "string",
        "final_status": "string",
        "biomarker": "string",
    },
}


def load_table(name: str) -> pd.DataFrame:
    """Return one published table as a tidy DataFrame.

    Parameters
    ----------
    name : str
        One of ``"table1"`` … ``"table5"`` (see :data:`TABLES`).

    Returns
    -------
    pandas.DataFrame
        A fresh copy; printed strings are kept beside parsed numbers where they differ
        (e.g. Table 3's ``ci_printed``). Percentages stay strings as printed.

    Raises
    ------
    KeyError
        If ``name`` is not a published table.
    """
    if name not in TABLES:
        raise KeyError(f"unknown published table {name!r}; choose one of {sorted(TABLES)}")
    path = bundled_path(f"data/published/{name}.csv")
    return pd.read_csv(path, dtype=_DTYPES[name], keep_default_na=False, na_values=[""])


TABLE3_NUMBERS = ("p", "hr", "ci_low", "ci_high")
"""Table 3's numeric columns (floats, or the printed text with ``table3(as_printed=True)``)."""


def table3(model: str | None = None, *, as_printed: bool = False) -> pd.DataFrame:
    """Return Table 3 (Cox HRs for PRS), optionally one model only.

    Parameters
    ----------
    model : {"univariate", "multivariable"}, optional
        Keep only this model's rows.
    as_printed : bool
        Keep :data:`TABLE3_NUMBERS` as the text of the bundled file (strings, byte for byte:
        ``"0.770"``, not ``0.77``) instead of parsing them as floats.

    Returns
    -------
    pandas.DataFrame
        Columns include ``term`` (the synthetic cohort column the row refers to),
        ``hr_refers_to``, ``model``, ``p``, ``hr``, ``ci_low``, ``ci_high``.
    """
    df = load_table("table3")
    if as_printed:
        path = bundled_path("data/published/table3.csv")
        text = pd.read_csv(path, dtype="string", keep_default_na=False)
        for col in TABLE3_NUMBERS:
            df[col] = text[col]
    if model is None:
        return df
    if model not in ("univariate", "multivariable"):
        raise ValueError(f"model must be 'univariate' or 'multivariable', not {model!r}")
    return df[df["model"] == model].reset_index(drop=True)


def table3_terms() -> list[str]:
    """Return the cohort columns of Table 3's rows, each once, in the printed order (23 terms)."""
    return list(dict.fromkeys(load_table("table3")["term"]))


def table5() -> pd.DataFrame:
    """Return Table 5: the 16 ICI-treated patients assessed for response.

    Returns
    -------
    pandas.DataFrame
        One row per patient with ``best_response`` and ``final_status`` (each one of
        ``CR``, ``PR``, ``SD``, ``PD``), times in months, ``initial_sites`` as
        ``;``-separated synthetic site columns, plus ``best_responder`` and
        ``final_responder`` (CR or PR, 0/1). The paper's ORR of 7/16 uses the final status.
    """
    df = load_table("table5")
    df["best_responder"] = df["best_response"].isin(["CR", "PR"]).astype(int)
    df["final_responder"] = df["final_status"].isin(["CR", "PR"]).astype(int)
    return df


def outcomes() -> dict[str, dict[str, Any]]:
    """Return the outcome numbers stated in the paper's text, keyed by name.

    Returns
    -------
    dict
        ``key -> {"value", "unit", "source", "quote", ...}`` (some entries also carry
        ``denominator``, ``group`` or ``percent_printed``), e.g.
        ``outcomes()["median_follow_up"]["value"] == 11.1``.
    """
    with bundled_path("data/published/outcomes.json").open(encoding="utf-8") as fh:
        doc = json.load(fh)
    return {item["key"]: item for item in doc["outcomes"]}


_RENAMED = {"ici_assessed": "orr_ici_denominator"}


def outcome(key: str) -> float:
    """Return one outcome number from the text, e.g. ``outcome("prs_5y_percent") == 20.6``.

    Parameters
    ----------
    key : str
        Key in ``data/published/outcomes.json``.

    Returns
    -------
    float
        The printed value.

    Raises
    ------
    KeyError
        For a key not in the file (naming the new key of a renamed one).
    """
    table = outcomes()
    if key not in table:
        hint = f" (renamed {_RENAMED[key]!r})" if key in _RENAMED else ""
        raise KeyError(f"no outcome {key!r} in data/published/outcomes.json{hint}")
    return float(table[key]["value"])


RESPONSE_DEFINITIONS: dict[str, str] = {"final": "final_status", "best": "best_response"}
"""Responder definitions of the ICI arm -> Table 5 column. Responder = CR or PR. ``final``
(the final disease status) is the paper's ORR, 7/16; ``best`` (best response) gives 8/16."""


def table5_counts(definition: str = "final") -> tuple[int, int]:
    """Return ``(responders, assessed)`` of the ICI arm from the bundled Table 5.

    Parameters
    ----------
    definition : {"final", "best"}
        Response by final disease status (the paper's 7/16) or by best response (8/16).

    Raises
    ------
    SpecError
        Rule ``definition_choice`` for any other definition.
    """
    column = RESPONSE_DEFINITIONS.get(definition)
    if column is None:
        msg = f"definition must be 'final' or 'best', got {definition!r}"
        raise SpecError("--definition", [Problem("definition_choice", msg, "--definition")])
    status = table5()[column].astype(str).str.strip().str.upper()
    return int(status.isin(["CR", "PR"]).sum()), len(status)


def non_ici_counts() -> tuple[int, int]:
    """Return ``(responders, assessed)`` of the non-ICI arm as printed in the text: 9/41.

    The denominator is ``orr_non_ici_denominator``: the 41 patients assessed by imaging. The
    53 of ``non_ici_patients`` are all patients without a PD-1 inhibitor, 12 of whom were
    not assessed by imaging, so 53 is not a denominator of any response rate.
    """
    return int(outcome("orr_non_ici_responders")), int(outcome("orr_non_ici_denominator"))
