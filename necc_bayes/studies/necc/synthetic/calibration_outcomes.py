"""Calibration rows from the text and Table 3 (survival, TTR, treatment) of the SYNTHETIC cohort.

See :mod:`necc_bayes.studies.necc.synthetic.calibration` for the meaning of each column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from necc_bayes.data.reference import cox_breslow, kaplan_meier, km_median
from necc_bayes.studies.necc.published import load_table, outcomes
from necc_bayes.studies.necc.synthetic.calibration_rows import records, row
from necc_bayes.studies.necc.synthetic.survival import ACCEPT


def text_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows for the text's numbers: age, ICI and response counts, IHC, TTR, conflicts."""
    out = outcomes()

    def val(key: str) -> float:
        return float(out[key]["value"])

    ici, assessed, resp = df["ici"], df["response_assessed"], df["responder"]
    tested = df["cga"].notna()
    rows = [
        row(
            "Text",
            "median age (years)",
            "all",
            val("median_age"),
            float(df["age"].median()),
            "exact",
        ),
        row(
            "Text/Table 4",
            "n_sites_gt1 (patients)",
            "all",
            39.0,
            float(df["n_sites_gt1"].sum()),
            "exact",
            note="Table 4: 19 + 20",
        ),
        row("Text", "ICI patients", "all", val("ici_patients"), float(ici.sum()), "exact"),
        row(
            "Text",
            "ICI assessed",
            "ici=1",
            val("orr_ici_denominator"),
            float(assessed[ici == 1].sum()),
            "exact",
        ),
        row(
            "Text",
            "ICI responders (final status)",
            "ici=1",
            val("orr_ici_responders"),
            float(resp[ici == 1].sum()),
            "exact",
        ),
        row(
            "Text",
            "non-ICI patients",
            "ici=0",
            val("non_ici_patients"),
            float((ici == 0).sum()),
            "exact",
        ),
        row(
            "Text",
            "non-ICI assessed",
            "ici=0",
            val("orr_non_ici_denominator"),
            float(assessed[ici == 0].sum()),
            "exact",
        ),
        row(
            "Text",
            "non-ICI responders",
            "ici=0",
            val("orr_non_ici_responders"),
            float(resp[ici == 0].sum()),
            "exact",
        ),
        row(
            "Text",
            "treatment after recurrence known (patients)",
            "all",
            val("treatment_details_known"),
            float(ici.notna().sum()),
            "exact",
        ),
        row(
            "Text",
            "antiangiogenic therapy (patients)",
            "all",
            val("antiangiogenic_text"),
            float(df["antiangiogenic"].sum()),
            "conflict",
            note="Table 4: 5/28 + 9/47 = 14/75 hit",
        ),
        row(
            "Text",
            "antiangiogenic therapy known (patients)",
            "all",
            84.0,
            float(df["antiangiogenic"].notna().sum()),
            "conflict",
            note="Table 4 denominators 75",
        ),
        row(
            "Text",
            "mixed NECC (patients)",
            "all",
            val("mixed_necc"),
            float((df["histology_pure"] == 0).sum()),
            "conflict",
            note="Table 1: 17+6+2+3 = 28 hit",
        ),
        row(
            "Text",
            "Syn positive (%)",
            "tested",
            val("syn_positive_percent"),
            round(100 * float(df["syn"].mean()), 1),
            "exact",
            note="denominator 84 assumed",
        ),
        row(
            "Text",
            "CgA positive (%)",
            "tested",
            val("cga_positive_percent"),
            round(100 * float(df["cga"].mean()), 1),
            "tolerance",
            0.5,
            note="printed '80%'; 67/84 with denominator 84 assumed",
        ),
        row(
            "Text",
            "CD56 positive (%)",
            "tested",
            val("cd56_positive_percent"),
            round(100 * float(df["cd56"].mean()), 1),
            "exact",
            note="denominator 84 assumed",
        ),
        row(
            "Text",
            "IHC tested (patients)",
            "all",
            84.0,
            float(tested.sum()),
            "exact",
            note="assumed: the only denominator <= 88 giving 94.0% and 90.5%",
        ),
    ]
    ttr, lung = df["ttr_months"].to_numpy(), df["site_lung"].to_numpy()
    for g, key in ((1, "ttr_median_lung_pos"), (0, "ttr_median_lung_neg")):
        sel = ttr[lung == g]
        rows.append(
            row(
                "Text",
                "TTR median (months)",
                f"site_lung={g}",
                val(key),
                float(np.sort(sel)[sel.size // 2 - 1]),
                "exact",
                note="Kaplan-Meier median, no censoring",
            )
        )
    rows += [
        row(
            "Text",
            "recurrence within 3 years (%)",
            "all",
            val("recurrence_within_3_years_percent"),
            round(100 * float((ttr <= 36).mean()), 1),
            "exact",
        ),
        row(
            "Text",
            "recurrence within 5 years (%)",
            "all",
            val("recurrence_within_5_years_percent"),
            round(100 * float((ttr <= 60).mean()), 2),
            "conflict",
            note="99.86% is impossible with 88 patients; 87/88 = 98.86% hit",
        ),
        row(
            "Text",
            "latest recurrence (month)",
            "all",
            val("latest_recurrence_month"),
            float(ttr.max()),
            "tolerance",
            1.0,
            note="'in the 70th month' = (69, 70]",
        ),
    ]
    return rows


def survival_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows for follow-up, Kaplan–Meier PRS and the multivariable Cox HRs (Table 3)."""
    out = outcomes()
    time = df["prs_months"].to_numpy(dtype=float)
    death = df["death"].to_numpy(dtype=int)
    abd = df["site_abdominal"].to_numpy(dtype=int)
    multi = df["n_sites_gt1"].to_numpy(dtype=int)
    acc = ACCEPT
    rows = [
        row(
            "Text",
            "median follow-up (months)",
            "all",
            11.1,
            float(np.median(time)),
            "tolerance",
            acc["median_follow_up"][1],
            note="median observed PRS time",
        ),
        row("Text", "follow-up min (months)", "all", 2.37, float(time.min()), "exact"),
        row("Text", "follow-up max (months)", "all", 65.5, float(time.max()), "exact"),
        row(
            "Text",
            "5-year PRS (%)",
            "all",
            20.6,
            100 * float(kaplan_meier(time, death).evaluate(60.0)),
            "tolerance",
            100 * acc["km_prs_60_months"][1],
            note="Kaplan-Meier",
        ),
    ]
    for g, key, acc_key in (
        (1, "prs_median_abdominal_pos", "km_median_prs_abdominal_pos"),
        (0, "prs_median_abdominal_neg", "km_median_prs_abdominal_neg"),
    ):
        sel = abd == g
        rows.append(
            row(
                "Text",
                "PRS median (months)",
                f"site_abdominal={g}",
                float(out[key]["value"]),
                km_median(time[sel], death[sel]),
                "tolerance",
                acc[acc_key][1],
                note="Kaplan-Meier",
            )
        )
    for g, key in ((1, "prs_3y_percent_abdominal_pos"), (0, "prs_3y_percent_abdominal_neg")):
        sel = abd == g
        rows.append(
            row(
                "Text",
                "3-year PRS (%)",
                f"site_abdominal={g}",
                float(out[key]["value"]),
                100 * float(kaplan_meier(time[sel], death[sel]).evaluate(36.0)),
                "reported",
                note="not targeted: 66.5% contradicts the 26.6-month median",
            )
        )
    pel = df["site_pelvic"].to_numpy(dtype=int)
    for g, key in ((1, "prs_median_pelvic_first"), (0, "prs_median_pelvic_second")):
        rows.append(
            row(
                "Text",
                "PRS median (months)",
                f"site_pelvic={g}",
                float(out[key]["value"]),
                km_median(time[pel == g], death[pel == g]),
                "reported",
                note="not targeted: printed order contradicts 'worse'",
            )
        )
    cox = cox_breslow(time, death, np.column_stack([abd, multi]))
    beta, se = cox.beta, cox.se
    for j, term in enumerate(("site_abdominal", "n_sites_gt1")):
        rows.append(
            row(
                "Table 3",
                f"Cox HR {term} (multivariable)",
                "all",
                float(
                    load_table("table3")
                    .query(f"model == 'multivariable' and term == '{term}'")["hr"]
                    .iloc[0]
                ),
                float(np.exp(beta[j])),
                "tolerance",
                acc[f"cox_hr_{term}"][1],
                "log",
                note=f"Breslow; 95% CI {np.exp(beta[j] - 1.96 * se[j]):.3f}-"
                f"{np.exp(beta[j] + 1.96 * se[j]):.3f}",
            )
        )
    return rows


def univariate_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows comparing every univariate Cox HR of Table 3 (reported, not targeted)."""
    rows = []
    for r in records("table3"):
        if r.model != "univariate":
            continue
        sub = df[[str(r.term), "prs_months", "death"]].dropna()
        x = sub[[str(r.term)]].to_numpy(dtype=float)
        cox = cox_breslow(
            sub["prs_months"].to_numpy(dtype=float), sub["death"].to_numpy(dtype=int), x
        )
        if cox.converged:
            hr, note = float(np.exp(cox.beta[0])), "true log-HR 0 unless in the PRS model"
        else:
            hr, note = float("nan"), "no finite Cox estimate (separation), as in the paper"
        rows.append(
            row(
                "Table 3",
                f"Cox HR {r.term} (univariate)",
                f"n={len(sub)}",
                float(r.hr),
                hr,
                "reported",
                note=note,
            )
        )
    return rows
