"""What ``necc-bayes reproduce`` writes, checked against independent references (slow, e2e).

One run (``conftest.reproduce_run``: the console script, few draws) is shared by every test.
Only numbers with a reference that does not come from the package are checked here:

- the response-rate comparison against exact beta-binomial results written from the
  definitions with scipy (``exact_orr``), for the paper's counts;
- the operating characteristics against exact enumeration of every outcome;
- the paper's numbers against ``data/published/`` as text, byte for byte;
- the fragility counts against the cohort file, counted with the csv module;
- the SYNTHETIC label on every table, figure and page computed from the cohort.

The ORR numbers do not depend on MCMC, so their tolerance is 1e-4 whatever the draws.
"""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import pytest

from tests.e2e import exact_orr
from tests.e2e.html_outline import Page, image_title, parse_page

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "data" / "published"
COHORT = ROOT / "data" / "synthetic" / "necc_synthetic_cohort.csv"

# The paper (shared/paper/necc_recurrence_study.txt), Results, "Treatment of disease
# recurrence": "Based on the final tumor response, the objective response rate was 43.8% (7/16)";
# "among the rest 53 patients who received no PD-1 inhibitors, 41 patients were assessed by
# imaging and the objective response rate was only 22.0% (9/41)". Table 5: best response CR 5 +
# PR 3 = 8 of the same 16. The denominators are the patients ASSESSED (16 and 41), never the 53.
ICI_FINAL = (7, 16)
ICI_BEST = (8, 16)
NON_ICI = (9, 41)

ABS = 1e-4  # probabilities, rates, differences (exact computations on both sides)
REL = 1e-4  # risk- and odds-ratio quantiles (values up to ~13)

SYNTHETIC = "SYNTHETIC"
ORR_OUTPUTS = {
    "orr.json",
    "orr_priors.csv",
    "orr_oc.csv",
    "orr_definitions.csv",
    "evidence_orr.csv",
}  # computed from the published counts alone: no SYNTHETIC label


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV file as the exact text of each cell."""
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def close(value: float, ref: float, *, rel: bool = False) -> bool:
    return abs(value - ref) <= (REL * abs(ref) if rel else ABS)


def report(out: Path) -> Page:
    return parse_page((out / "report.html").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- response rates


def test_published_counts_used_by_this_test_match_table5():
    """Reference check: Table 5 as bundled gives 7/16 (final status) and 8/16 (best response)."""
    rows = read_csv(PUBLISHED / "table5.csv")
    final = sum(r["final_status"].strip() in ("CR", "PR") for r in rows)
    best = sum(r["best_response"].strip() in ("CR", "PR") for r in rows)
    assert (final, len(rows)) == ICI_FINAL
    assert (best, len(rows)) == ICI_BEST


def _check_arm(arm: dict, counts: tuple[int, int], ref: exact_orr.Mix, prob: float) -> None:
    # counts: the paper's text (module constants); posterior: conjugate update written here
    assert (arm["responders"], arm["assessed"]) == counts
    assert arm["observed_rate"] == pytest.approx(counts[0] / counts[1], abs=1e-12)
    post = arm["posterior_distribution"]
    assert post["a"] == pytest.approx(list(ref.a), abs=1e-9)
    assert post["b"] == pytest.approx(list(ref.b), abs=1e-9)
    assert post["weights"] == pytest.approx(list(ref.w), abs=ABS)
    low, high = ref.interval(prob)
    expected = {"mean": ref.mean(), "median": ref.ppf(0.5), "low": low, "high": high}
    for key, value in expected.items():
        assert close(arm[key], value), (key, arm[key], value)


def test_orr_json_every_quantity_matches_exact_reference(reproduce_run):
    """orr.json at 7/16 vs 9/41 against closed form / quadrature (exact_orr), tol 1e-4."""
    orr = json.loads((reproduce_run.out / "orr.json").read_text(encoding="utf-8"))
    ref = exact_orr.compare(ICI_FINAL, NON_ICI, orr["prior"], orr["delta"], orr["interval_prob"])
    _check_arm(orr["treated"], ICI_FINAL, ref.treated, orr["interval_prob"])
    _check_arm(orr["control"], NON_ICI, ref.control, orr["interval_prob"])
    for key in ("p_treated_better", "p_diff_gt_delta", "diff_mean", "diff_median"):
        assert close(orr[key], getattr(ref, key)), (key, orr[key], getattr(ref, key))
    for key in ("diff_low", "diff_high"):
        assert close(orr[key], getattr(ref, key)), (key, orr[key], getattr(ref, key))
    for stem in ("rr", "or"):
        for part in ("median", "low", "high"):
            key = f"{stem}_{part}"
            assert close(orr[key], getattr(ref, key), rel=True), (key, orr[key], getattr(ref, key))


def test_headline_probabilities_are_the_issue_14_numbers(reproduce_run):
    """P(p_ICI > p_non) = 0.9485 (uniform) and 0.9476 (Jeffreys): issue 14, and the finite-sum
    closed form for the uniform prior (Beta(8, 10) vs Beta(10, 33))."""
    rows = {r["prior"]: r for r in read_csv(reproduce_run.out / "orr_priors.csv")}
    uniform = float(rows["uniform"]["p_treated_better"])
    jeffreys = float(rows["jeffreys"]["p_treated_better"])
    assert round(uniform, 4) == 0.9485
    assert round(jeffreys, 4) == 0.9476
    assert close(uniform, exact_orr.p_better_closed_form(8, 10, 10, 33))
    orr = json.loads((reproduce_run.out / "orr.json").read_text(encoding="utf-8"))
    assert orr["prior"] == "uniform" and round(orr["p_treated_better"], 4) == 0.9485


def _prior_components(text: str) -> list[tuple[float, float, float]]:
    """Parse 'Beta(a, b)' or 'w·Beta(a, b) + w·Beta(a, b)' as written in orr_priors.csv."""
    out = []
    for term in text.split(" + "):
        m = re.fullmatch(r"(?:([\d.]+)·)?Beta\(([\d.]+), ([\d.]+)\)", term.strip())
        assert m is not None, f"unreadable prior description {text!r}"
        out.append((float(m.group(1) or 1.0), float(m.group(2)), float(m.group(3))))
    return out


def test_orr_priors_every_row_matches_exact_reference(reproduce_run):
    """Every quantity of orr_priors.csv, per prior, against exact_orr at 7/16 vs 9/41, tol 1e-4."""
    rows = read_csv(reproduce_run.out / "orr_priors.csv")
    assert [r["prior"] for r in rows] == ["uniform", "jeffreys", "skeptical:0.1", "robust:0.1,0.5"]
    orr = json.loads((reproduce_run.out / "orr.json").read_text(encoding="utf-8"))
    delta, prob = orr["delta"], orr["interval_prob"]  # one step writes both, with one delta
    for row in rows:
        ref = exact_orr.compare(ICI_FINAL, NON_ICI, row["prior"], delta, prob)
        prior = exact_orr.prior_from_text(row["prior"], (7 + 9) / (16 + 41))
        for col in ("prior_treated", "prior_control"):  # the resolved prior, printed to 4 digits
            got = _prior_components(row[col])
            want = list(zip(prior.w, prior.a, prior.b, strict=True))
            assert len(got) == len(want), (row["prior"], col)
            for g, w in zip(got, want, strict=True):
                assert g == pytest.approx(w, rel=1e-3), (row["prior"], col, g, w)
        expected = {
            "post_mean_treated": ref.treated.mean(),
            "post_mean_control": ref.control.mean(),
            "p_treated_better": ref.p_treated_better,
            "p_diff_gt_delta": ref.p_diff_gt_delta,
            "diff_mean": ref.diff_mean,
            "diff_low": ref.diff_low,
            "diff_high": ref.diff_high,
        }
        for key, value in expected.items():
            assert close(float(row[key]), value), (row["prior"], key, row[key], value)
        for stem in ("rr", "or"):
            for part in ("median", "low", "high"):
                key = f"{stem}_{part}"
                want_v = getattr(ref, key)
                assert close(float(row[key]), want_v, rel=True), (row["prior"], key, row[key])
        # the table says which counts, margin and interval it used
        assert (row["treated"], row["control"]) == ("7/16", "9/41"), row["prior"]
        assert (float(row["delta"]), float(row["interval_prob"])) == (delta, prob)


def test_orr_definitions_final_and_best_response_match_exact_reference(reproduce_run):
    """The best-response alternative (8/16) beside the paper's final status (7/16), exact."""
    rows = read_csv(reproduce_run.out / "orr_definitions.csv")
    seen = set()
    for row in rows:
        treated = {"final": ICI_FINAL, "best": ICI_BEST}[row["definition"]]
        assert (row["treated"], row["control"]) == (f"{treated[0]}/{treated[1]}", "9/41")
        ref = exact_orr.compare(treated, NON_ICI, row["prior"], float(row["delta"]), 0.95)
        for key in ("p_treated_better", "p_diff_gt_delta", "diff_mean", "diff_low", "diff_high"):
            assert close(float(row[key]), getattr(ref, key)), (row["definition"], row["prior"], key)
        seen.add((row["definition"], row["prior"]))
    priors = {r["prior"] for r in read_csv(reproduce_run.out / "orr_priors.csv")}
    assert seen == {(d, p) for d in ("final", "best") for p in priors}


def test_evidence_orr_uniform_row_is_the_paper_comparison(reproduce_run):
    """evidence_orr.csv (ICI-arm MAP priors) reads the same counts: its uniform row is the exact
    7/16 vs 9/41 comparison (the MAP rows have no independent reference here)."""
    rows = {r["ICI-arm prior"]: r for r in read_csv(reproduce_run.out / "evidence_orr.csv")}
    ref = exact_orr.compare(ICI_FINAL, NON_ICI, "uniform", 0.0, 0.95)
    assert close(float(rows["uniform"]["P(p_ICI > p_non-ICI)"]), ref.p_treated_better)
    assert close(float(rows["uniform"]["ICI posterior mean"]), ref.treated.mean())


def test_orr_operating_characteristics_match_exact_enumeration(reproduce_run):
    """orr_oc.csv: n_control = 41 in every row, and every P(declare) against the exact sum over
    all 17 x 42 outcomes (finite-sum closed form of P(p_t > p_c) per outcome)."""
    rows = read_csv(reproduce_run.out / "orr_oc.csv")
    assert rows
    matrices: dict[str, object] = {}
    for row in rows:
        assert (int(row["n_treated"]), int(row["n_control"])) == (16, 41), row
        prior = row["prior"]
        if prior not in matrices:
            matrices[prior] = exact_orr.decision_probabilities(16, 41, prior)
        p_t, p_c = float(row["p_treated"]), float(row["p_control"])
        assert float(row["difference"]) == pytest.approx(p_t - p_c, abs=1e-12)
        assert float(row["p_undefined"]) == 0.0
        for col in (c for c in row if c.startswith("declare_c")):
            want = exact_orr.prob_declare_exact(matrices[prior], p_t, p_c, float(col[9:]))
            assert float(row[col]) == pytest.approx(want, abs=1e-8), (row, col, want)
    type_one = [
        r for r in rows if r["prior"] == "uniform" and r["p_control"] == r["p_treated"] == "0.22"
    ]
    assert len(type_one) == 1
    assert 0.04 < float(type_one[0]["declare_c0.95"]) < 0.06  # about 0.05 (exact: 0.0525)


# ------------------------------------------------------------------------- published numbers


def test_table3_paper_columns_are_the_published_table_byte_for_byte(reproduce_run):
    """table3_comparison.csv and the report's Table 3: paper columns = data/published/table3.csv."""
    published = {r["row"]: r for r in read_csv(PUBLISHED / "table3.csv")}
    written = read_csv(reproduce_run.out / "table3_comparison.csv")
    assert sorted(r["row"] for r in written) == sorted(published)
    same = {
        "paper_hr": "hr",
        "paper_low": "ci_low",
        "paper_high": "ci_high",
        "paper_p": "p",
        "hr_printed": "hr_printed",
        "ci_printed": "ci_printed",
        "p_printed": "p_printed",
        "label_as_printed": "label_as_printed",
        "term": "term",
        "model": "model",
    }
    for row in written:
        pub = published[row["row"]]
        for col, pub_col in same.items():
            assert row[col] == pub[pub_col], (row["row"], col, row[col], pub[pub_col])
    table = report(reproduce_run.out).section("table3").tables[0]
    head, body = table[0], table[1:]
    assert len(body) == len(published)
    for cells in body:
        r = dict(zip(head, cells, strict=True))
        pub = published[r["row"]]
        assert r["paper HR (95% CI), as printed"] == f"{pub['hr_printed']} ({pub['ci_printed']})"
        assert r["paper p"] == pub["p_printed"], (r["row"], r["paper p"], pub["p_printed"])


# paper value of each row of prs_by_abdominal.csv: the outcome key in data/published/outcomes.json
PRS_PAPER_KEYS = {
    ("site_abdominal=1", "median_survival (months)"): "prs_median_abdominal_pos",
    ("site_abdominal=0", "median_survival (months)"): "prs_median_abdominal_neg",
    ("site_abdominal=1", "surv_at_36 (%)"): "prs_3y_percent_abdominal_pos",
    ("site_abdominal=0", "surv_at_36 (%)"): "prs_3y_percent_abdominal_neg",
}


def _outcome_text() -> dict[str, str]:
    """Each outcome's value exactly as written in outcomes.json (numbers kept as text)."""
    doc = json.loads(
        (PUBLISHED / "outcomes.json").read_text(encoding="utf-8"),
        parse_float=str,
        parse_int=str,
    )
    return {o["key"]: o["value"] for o in doc["outcomes"]}


def test_prs_paper_values_are_the_published_outcomes_byte_for_byte(reproduce_run):
    """prs_by_abdominal.csv and its report table: paper medians and 3-year PRS = outcomes.json."""
    text = _outcome_text()
    rows = read_csv(reproduce_run.out / "prs_by_abdominal.csv")
    for row in rows:
        key = PRS_PAPER_KEYS.get((row["group"], row["quantity"]))
        assert row["paper_value"] == ("" if key is None else text[key]), row
    assert sum((r["group"], r["quantity"]) in PRS_PAPER_KEYS for r in rows) == len(PRS_PAPER_KEYS)
    section = report(reproduce_run.out).section("prs-by-abdominal")
    table = next(t for t in section.tables if "paper_value" in t[0])
    head = table[0]
    for cells in table[1:]:
        r = dict(zip(head, cells, strict=True))
        key = PRS_PAPER_KEYS.get((r["group"], r["quantity"]))
        if key is not None:
            assert r["paper_value"] == text[key], r
    for key in PRS_PAPER_KEYS.values():  # the section's text quotes the same numbers
        assert text[key] in section.text, key


# --------------------------------------------------------------------------------- fragility


def test_fragility_counts_match_the_cohort_file(reproduce_run):
    """Patients and deaths per level of each Table 3 covariate, counted from the cohort CSV."""
    cohort = read_csv(COHORT)
    terms = list(dict.fromkeys(r["term"] for r in read_csv(PUBLISHED / "table3.csv")))
    rows = read_csv(reproduce_run.out / "fragility.csv")
    assert [r["term"] for r in rows] == terms
    for row in rows:
        term = row["term"]
        used = [p for p in cohort if p[term] != "" and p["prs_months"] != "" and p["death"] != ""]
        level = {v: [p for p in used if float(p[term]) == v] for v in (0.0, 1.0)}
        deaths = {v: sum(float(p["death"]) == 1.0 for p in level[v]) for v in (0.0, 1.0)}
        assert len(level[0.0]) + len(level[1.0]) == len(used), term  # 0/1 only
        expected = {
            "n_used": len(used),
            "n_missing": len(cohort) - len(used),
            "n_0": len(level[0.0]),
            "n_1": len(level[1.0]),
            "events_0": deaths[0.0],
            "events_1": deaths[1.0],
        }
        for key, value in expected.items():
            assert int(row[key]) == value, (term, key, row[key], value)
        separated = any(deaths[v] in (0, len(level[v])) for v in (0.0, 1.0))
        assert ("separation" in row["flags"]) == separated, term


def test_screen_models_each_covariates_missing_values_counted_from_the_cohort_file(reproduce_run):
    """screen.csv: a Table 3 covariate with empty cells in the cohort file is fitted on all
    patients with those cells modelled (n_imputed = empty cells, counted with the csv module;
    n_dropped = 0); a complete one uses every patient."""
    cohort = read_csv(COHORT)
    for row in read_csv(reproduce_run.out / "screen.csv"):
        empty = sum(p[row["term"]] == "" for p in cohort)
        assert (int(row["n_imputed"]), int(row["n_dropped"])) == (empty, 0), row["term"]
        assert int(row["n_used"]) == len(cohort), row["term"]


# --------------------------------------------------------------------------- synthetic label


def _cohort_csvs(out: Path) -> list[Path]:
    return sorted(p for p in out.glob("*.csv") if p.name not in ORR_OUTPUTS)


def test_every_table_computed_on_the_cohort_is_labelled_synthetic(reproduce_run):
    """Every CSV computed from the cohort names its data source as SYNTHETIC in every row."""
    out = reproduce_run.out
    files = _cohort_csvs(out) + sorted(out.glob("fits/*/*.csv"))
    assert len(files) > 10
    for path in files:
        rows = read_csv(path)
        cols = [c for c in ("posterior_source", "data_source") if rows and c in rows[0]]
        assert cols, f"{path.relative_to(out)}: no posterior_source / data_source column"
        assert all(SYNTHETIC in r[cols[0]] for r in rows), path.relative_to(out)


def test_every_report_section_with_results_from_the_cohort_says_synthetic(reproduce_run):
    """report.html: each section holding a table or figure computed from the cohort is titled
    SYNTHETIC; the response-rate section (published counts only) says where its counts are from."""
    page = report(reproduce_run.out)
    assert SYNTHETIC in page.title and SYNTHETIC in page.header
    for section in page.sections:
        if section.anchor == "orr" or not (section.tables or section.figures):
            continue
        assert SYNTHETIC in section.title, f"section #{section.anchor}: {section.title!r}"
    orr = page.section("orr")
    assert SYNTHETIC not in orr.title


def test_every_figure_title_and_caption_says_synthetic(reproduce_run):
    """Titles recorded in each figure file (PNG tEXt / SVG dc:title, written from the figure's
    own title) and captions: SYNTHETIC for everything computed from the cohort; the ORR
    figure names its published arm sizes 16 vs 41."""
    out = reproduce_run.out
    pages = {"report.html": report(out)}
    for path in sorted(out.glob("fits/*/report.html")):
        pages[str(path.relative_to(out))] = parse_page(path.read_text(encoding="utf-8"))
    for name, page in pages.items():
        if name != "report.html":
            assert SYNTHETIC in page.title, name
        assert page.figures, name
        for section in page.sections:
            for fig in section.figures:
                title = html.unescape(fig.title())
                if section.anchor == "orr":
                    assert "16 vs 41" in fig.caption and "n_c=41" in title, (name, title)
                    continue
                assert SYNTHETIC in title, (name, section.anchor, title)
                assert SYNTHETIC in fig.caption, (name, section.anchor, fig.caption)
    files = {p.name: image_title(p.read_bytes()) for p in (out / "figures").glob("*.png")}
    assert SYNTHETIC in files.pop("sensitivity.png")
    assert "n_t=16 vs n_c=41" in files.pop("orr_operating_characteristics.png")
    assert all(SYNTHETIC in t for t in files.values()), files


# ------------------------------------------------------------------------------ 9/53 nowhere

WRONG_DENOMINATOR = re.compile(r"\b9\s*/\s*53\b|\b16\s*vs\.?\s*53\b|n_c\s*=\s*53\b")


def test_no_output_or_page_shows_the_patient_count_as_denominator(reproduce_run):
    """No written text, page or figure title shows 9/53 (or 16 vs 53, n_c=53)."""
    out = reproduce_run.out
    texts = {
        str(p.relative_to(out)): p.read_text(encoding="utf-8")
        for p in out.rglob("*")
        if p.suffix in (".csv", ".json", ".html", ".toml", ".txt")
    }
    for path in out.rglob("*.png"):
        texts[str(path.relative_to(out))] = image_title(path.read_bytes())
    for fig in report(out).figures:
        texts[f"report.html figure {fig.alt}"] = fig.title()
    hits = {k: WRONG_DENOMINATOR.findall(v) for k, v in texts.items()}
    assert {k: v for k, v in hits.items() if v} == {}
    orr = json.loads((out / "orr.json").read_text(encoding="utf-8"))
    assert orr["control"]["assessed"] == 41


def test_report_orr_section_states_the_counts_and_the_best_response_alternative(reproduce_run):
    """One line says which counts and why (final-status responders among the assessed); the
    best-response 8/16 is shown beside it with its exact P(p_t > p_c)."""
    orr = report(reproduce_run.out).section("orr")
    text = " ".join(orr.text.split())
    assert "7/16" in text and "9/41" in text and "8/16" in text
    assert re.search(r"final[- ]status responders among (the )?(patients )?assessed", text), text
    final = exact_orr.compare(ICI_FINAL, NON_ICI, "uniform", 0.1, 0.95).p_treated_better
    best = exact_orr.compare(ICI_BEST, NON_ICI, "uniform", 0.1, 0.95).p_treated_better
    assert f"{final:.4f}" in text and f"{best:.4f}" in text, (final, best)
