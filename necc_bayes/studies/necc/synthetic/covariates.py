"""Covariates of the synthetic NECC cohort, built to hit the published margins exactly.

Patients are built in two groups, abdominal recurrence + (33) and − (55), because Table 4
gives most cross-tabs by that split. Each binary covariate gets exactly the published
numbers of 1s, 0s and missing values per group (``EXACT_BY_ABDOMINAL``); which patients get
them is random. The 16 Table 5 patients are embedded with their sites and response.
Decisions where the paper contradicts itself are documented in ``data/README.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from necc_bayes.studies.necc.published import table5

SITES: tuple[str, ...] = (
    "site_lung",
    "site_abdominal",
    "site_pelvic",
    "site_bone",
    "site_cervicothoracic_ln",
    "site_brain",
    "site_vaginal_vault",
    "site_other",
)
# Table 2: patients per initial recurrence site (sites overlap).
SITE_COUNTS: dict[str, int] = {
    "site_lung": 34,
    "site_abdominal": 33,
    "site_pelvic": 24,
    "site_bone": 11,
    "site_cervicothoracic_ln": 10,
    "site_brain": 7,
    "site_vaginal_vault": 7,
    "site_other": 2,
}
N_ABD = {1: 33, 0: 55}  # Table 4 group sizes
MULTI_SITE = {1: 19, 0: 20}  # Table 4 "Number of recurrent sites (> 1)"
LUNG = {1: 8, 0: 26}  # Table 4 "Lung recurrence"
PELVIC = {1: 8, 0: 16}  # Table 4 "Pelvic organs recurrence"

# (yes, no, missing) per abdominal group {1: abd+, 0: abd-}; Table 4 counts with the
# denominators they imply (see data/README.md for radiation, chemotherapy, histology).
EXACT_BY_ABDOMINAL: dict[str, dict[int, tuple[int, int, int]]] = {
    "age_gt50": {1: (5, 28, 0), 0: (21, 34, 0)},
    "figo_3_4": {1: (10, 20, 3), 0: (19, 31, 5)},
    "tumor_size_gt4": {1: (7, 15, 11), 0: (12, 26, 17)},
    "invasion_deep": {1: (24, 6, 3), 0: (33, 16, 6)},
    "lvsi": {1: (25, 2, 6), 0: (30, 10, 15)},
    "nerve_invasion": {1: (11, 11, 11), 0: (10, 26, 19)},
    "plnm": {1: (10, 20, 3), 0: (19, 33, 3)},
    "radiation": {1: (22, 11, 0), 0: (31, 24, 0)},
    "chemo_cycles_ge4": {1: (27, 6, 0), 0: (45, 10, 0)},
    "histology_pure": {1: (23, 10, 0), 0: (37, 18, 0)},
}
# Table 1 histology: (type, mixed component or "none" for pure) -> count.
HISTOLOGY: dict[tuple[str, str], int] = {
    ("small_cell", "none"): 48,
    ("small_cell", "adc"): 17,
    ("small_cell", "sqc_or_adenosquamous"): 6,
    ("large_cell", "none"): 6,
    ("large_cell", "small_cell"): 2,
    ("nos", "none"): 6,
    ("nos", "adc"): 3,
}
FIGO_HIGH = {"III": 27, "IVa": 2}  # Table 1
FIGO_LOW = {"I": 42, "II": 9}  # Table 1
# Immunohistochemistry (text: 94.0%, 80%, 90.5%; denominator 84 assumed, 4 missing).
IHC_POSITIVE = {"syn": 79, "cga": 67, "cd56": 76}
IHC_TESTED = 84
# Treatment after recurrence known for 75 (Table 4 denominators 28 + 47).
TREATMENT_KNOWN = {1: 28, 0: 47}
ICI = {1: 8, 0: 14}
ANTIANGIOGENIC = {1: 5, 0: 9}
NON_ICI_ASSESSED, NON_ICI_RESPONDERS = 41, 9


def exact_binary(rng: np.random.Generator, yes: int, no: int, missing: int) -> pd.Series:
    """Return a shuffled nullable 0/1 series with exactly ``yes`` 1s, ``no`` 0s, ``missing`` NA.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    yes, no, missing : int
        Counts of 1, 0 and missing values.

    Returns
    -------
    pandas.Series
        Dtype ``Int64`` of length ``yes + no + missing``.
    """
    values = np.array([1] * yes + [0] * no + [-1] * missing)
    rng.shuffle(values)
    out = pd.Series(values, dtype="Int64")
    return out.mask(out == -1)


def _table5_sites() -> list[tuple[int, frozenset[str], int]]:
    """Return ``(table5 patient, sites, final responder)`` for the 16 Table 5 patients."""
    t5 = table5()
    return [
        (
            int(r["patient"]),
            frozenset(str(r["initial_sites"]).split(";")),
            int(r["final_responder"]),
        )
        for r in t5.to_dict("records")
    ]


def _pairs_without_duplicates(
    rng: np.random.Generator, pool: list[str], n_single: int, max_tries: int = 100_000
) -> list[frozenset[str]]:
    """Split a multiset of sites into ``n_single`` singletons and pairs of distinct sites."""
    arr = np.array(pool)
    for _ in range(max_tries):
        rng.shuffle(arr)
        pairs = arr[n_single:].reshape(-1, 2)
        if (pairs[:, 0] != pairs[:, 1]).all():
            singles = [frozenset([s]) for s in arr[:n_single]]
            return singles + [frozenset(p) for p in pairs]
    raise RuntimeError("could not pair recurrence sites without duplicates")


def _pool(counts: dict[str, int]) -> list[str]:
    return [site for site, k in counts.items() for _ in range(k)]


def build_sites(rng: np.random.Generator) -> pd.DataFrame:
    """Return the site indicators of 88 patients, sorted abdominal + first.

    Hits Table 2 (every site count), Table 4 (lung, pelvic and > 1 site by abdominal
    group) and Table 5 (the 16 ICI patients' sites). 39 patients have > 1 site and the
    site counts sum to 128, so exactly 38 have two sites and one (Table 5 patient 13) three.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    pandas.DataFrame
        Columns ``SITES``, ``n_sites``, ``n_sites_gt1`` and ``table5_patient`` (nullable).
    """
    t5 = _table5_sites()
    remaining = {s: k for s, k in SITE_COUNTS.items() if s != "site_abdominal"}
    for _, sites, _ in t5:
        for s in sites - {"site_abdominal"}:
            remaining[s] -= 1
    fixed = {
        1: [(p, s) for p, s, _ in t5 if "site_abdominal" in s],
        0: [(p, s) for p, s, _ in t5 if "site_abdominal" not in s],
    }
    # abd+: every patient has abdominal; the others' second sites are lung and pelvic
    # (Table 4) plus two drawn from bone / lymph node / brain / vault / other.
    plus_second = {"site_lung": LUNG[1], "site_pelvic": PELVIC[1]}
    for _, sites in fixed[1]:
        for s in sites & set(plus_second):
            plus_second[s] -= 1
    n_plus_pairs = MULTI_SITE[1] - sum(len(s) > 1 for _, s in fixed[1])
    n_plus_extra = n_plus_pairs - sum(plus_second.values())
    minor = [s for s in remaining if s not in ("site_lung", "site_pelvic")]
    minor_pool = _pool({s: remaining[s] for s in minor})
    extra = list(rng.choice(np.array(minor_pool), size=n_plus_extra, replace=False))
    for s in ("site_lung", "site_pelvic"):
        remaining[s] -= plus_second[s]
    for s in extra:
        remaining[str(s)] -= 1
    seconds = _pool(plus_second) + [str(s) for s in extra]
    n_plus_single = N_ABD[1] - MULTI_SITE[1] - sum(len(s) == 1 for _, s in fixed[1])
    plus = [frozenset(["site_abdominal"])] * n_plus_single + [
        frozenset(["site_abdominal", s]) for s in seconds
    ]
    # abd-: 35 single-site and 20 two-site patients from the remaining site multiset.
    n_minus_single = N_ABD[0] - MULTI_SITE[0] - len(fixed[0])
    minus = _pairs_without_duplicates(rng, _pool(remaining), n_minus_single)
    rows = [(p, s) for p, s in fixed[1]] + [(None, s) for s in plus]
    rows += [(p, s) for p, s in fixed[0]] + [(None, s) for s in minus]
    out = pd.DataFrame({site: [int(site in s) for _, s in rows] for site in SITES})
    out["n_sites"] = out[list(SITES)].sum(axis=1)
    out["n_sites_gt1"] = (out["n_sites"] > 1).astype(int)
    out["table5_patient"] = pd.array([p for p, _ in rows], dtype="Int64")
    return out


def _histology(rng: np.random.Generator, pure: pd.Series) -> pd.DataFrame:
    """Assign Table 1 histology subtypes given the pure/mixed flags."""
    pure_labels = [k for k, n in HISTOLOGY.items() if k[1] == "none" for _ in range(n)]
    mixed_labels = [k for k, n in HISTOLOGY.items() if k[1] != "none" for _ in range(n)]
    order_p = rng.permutation(len(pure_labels))
    order_m = rng.permutation(len(mixed_labels))
    types, components = [], []
    ip = im = 0
    for flag in pure.to_numpy():
        if flag == 1:
            label = pure_labels[order_p[ip]]
            ip += 1
        else:
            label = mixed_labels[order_m[im]]
            im += 1
        types.append(label[0])
        components.append(label[1])
    return pd.DataFrame({"histology": types, "histology_mixed_component": components})


def _figo(rng: np.random.Generator, high: pd.Series) -> pd.Series:
    """Assign FIGO 2018 stages given the III+IV flags (missing stays missing)."""
    hi_arr = np.array(_pool(FIGO_HIGH))
    lo_arr = np.array(_pool(FIGO_LOW))
    rng.shuffle(hi_arr)
    rng.shuffle(lo_arr)
    stages: list[str | None] = []
    ih = il = 0
    for flag in high:
        if pd.isna(flag):
            stages.append(None)
        elif flag == 1:
            stages.append(str(hi_arr[ih]))
            ih += 1
        else:
            stages.append(str(lo_arr[il]))
            il += 1
    return pd.Series(stages, dtype="string")


def _ages(rng: np.random.Generator, gt50: pd.Series, max_tries: int = 10_000) -> pd.Series:
    """Integer ages: Table 1 mean 46 (range 24–67), text median 46, ``age > 50`` as given."""
    flags = gt50.to_numpy(dtype=int)
    n_hi = int(flags.sum())
    n_lo = len(flags) - n_hi
    for _ in range(max_tries):
        lo = np.clip(np.rint(rng.normal(42.0, 7.0, n_lo)), 24, 50)
        hi = rng.integers(51, 68, n_hi).astype(float)
        lo[np.argmin(lo)] = 24
        hi[np.argmax(hi)] = 67
        ages = np.empty(len(flags))
        ages[flags == 0] = lo
        ages[flags == 1] = hi
        if abs(ages.mean() - 46) < 0.5 and np.median(ages) == 46:
            return pd.Series(ages.astype(int))
    raise RuntimeError("could not draw ages matching mean 46 and median 46")


def build_covariates(rng: np.random.Generator, sites: pd.DataFrame) -> pd.DataFrame:
    """Add baseline, pathology and primary-treatment covariates to the site frame.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    sites : pandas.DataFrame
        Output of :func:`build_sites` (abdominal + rows first).

    Returns
    -------
    pandas.DataFrame
        A new frame with every Table 1 / Table 4 covariate (IHC markers ``syn`` is only
        marked tested/untested here; see
        :func:`necc_bayes.studies.necc.synthetic.survival.assign_syn`).
    """
    df = sites.copy()
    abd = df["site_abdominal"].to_numpy()
    for column, by_group in EXACT_BY_ABDOMINAL.items():
        values = pd.Series(pd.NA, index=df.index, dtype="Int64")
        for group, (yes, no, missing) in by_group.items():
            idx = df.index[abd == group]
            values.loc[idx] = exact_binary(rng, yes, no, missing).to_numpy()
        df[column] = values
    df["age"] = _ages(rng, df["age_gt50"])
    df = pd.concat([df, _histology(rng, df["histology_pure"])], axis=1)
    df["figo_stage"] = _figo(rng, df["figo_3_4"])
    tested = exact_binary(rng, IHC_TESTED, len(df) - IHC_TESTED, 0).to_numpy() == 1
    df["ihc_tested"] = tested.astype(int)
    for marker in ("cga", "cd56"):
        values = pd.Series(pd.NA, index=df.index, dtype="Int64")
        pos = IHC_POSITIVE[marker]
        values.loc[df.index[tested]] = exact_binary(rng, pos, IHC_TESTED - pos, 0).to_numpy()
        df[marker] = values
    return df


def build_treatment(rng: np.random.Generator, df: pd.DataFrame) -> pd.DataFrame:
    """Add ICI, antiangiogenic therapy, response assessment and responder.

    Treatment after recurrence is known for 75 patients (28 abd+, 47 abd−; Table 4);
    ICI 22 (8 + 14) including the 16 Table 5 patients (assessed; 7 responders by final
    status); 41 of the 53 non-ICI patients assessed with 9 responders (text).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    df : pandas.DataFrame
        Output of :func:`build_covariates`.

    Returns
    -------
    pandas.DataFrame
        A new frame with ``ici``, ``antiangiogenic``, ``response_assessed``, ``responder``.
    """
    out = df.copy()
    ici = pd.Series(pd.NA, index=out.index, dtype="Int64")
    anti = pd.Series(pd.NA, index=out.index, dtype="Int64")
    assessed = pd.Series(pd.NA, index=out.index, dtype="Int64")
    responder = pd.Series(pd.NA, index=out.index, dtype="Int64")
    t5_resp = {p: r for p, _, r in _table5_sites()}
    in_t5 = out["table5_patient"].notna().to_numpy()
    for group in (1, 0):
        members = out.index[(out["site_abdominal"] == group).to_numpy()]
        t5_members = [i for i in members if in_t5[i]]
        others = rng.permutation([i for i in members if not in_t5[i]])
        n_other_ici = ICI[group] - len(t5_members)
        n_known_other = TREATMENT_KNOWN[group] - len(t5_members)
        ici.loc[t5_members] = 1
        ici.loc[others[:n_other_ici]] = 1
        ici.loc[others[n_other_ici:n_known_other]] = 0
        known = [*t5_members, *others[:n_known_other]]
        anti.loc[known] = exact_binary(
            rng, ANTIANGIOGENIC[group], len(known) - ANTIANGIOGENIC[group], 0
        ).to_numpy()
    for i in out.index[in_t5]:
        assessed.loc[i] = 1
        responder.loc[i] = t5_resp[int(out["table5_patient"].to_numpy()[i])]
    assessed.loc[(ici == 1).fillna(False).to_numpy() & ~in_t5] = 0
    non_ici = out.index[(ici == 0).fillna(False).to_numpy()]
    flags = exact_binary(rng, NON_ICI_ASSESSED, len(non_ici) - NON_ICI_ASSESSED, 0).to_numpy()
    assessed.loc[non_ici] = flags
    chosen = non_ici[flags == 1]
    responder.loc[chosen] = exact_binary(
        rng, NON_ICI_RESPONDERS, NON_ICI_ASSESSED - NON_ICI_RESPONDERS, 0
    ).to_numpy()
    out["ici"], out["antiangiogenic"] = ici, anti
    out["response_assessed"], out["responder"] = assessed, responder
    return out
