"""Column roles and the rules a cohort file must satisfy.

Each rule has a short name used in error messages and tests. ``RULES`` documents them; the
checks themselves live in :mod:`necc_bayes.data.load`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a column is used for in a model."""

    TIME = "time"
    EVENT = "event"
    ID = "id"
    ENTRY = "entry"
    STRATA = "strata"
    CLUSTER = "cluster"
    COVARIATE = "covariate"
    CATEGORICAL = "categorical"


RULES: dict[str, str] = {
    "file_exists": "the data file must exist",
    "file_is_file": "the data path must be a file, not a directory",
    "csv_read": "the data file must be a readable, non-empty CSV with a header row",
    "encoding_utf8": "the data file must be UTF-8 text (a byte-order mark is accepted)",
    "csv_delimiter": "the data file must be comma-separated (not ';' or tab)",
    "column_unique": "column names must be unique, also after surrounding spaces are removed",
    "column_exists": "every column named in the spec must be in the file",
    "min_rows": "at least 2 rows are needed",
    "missing": "used columns may not have missing values unless data.missing = 'drop'",
    "numeric": "time and numeric covariates must be numbers",
    "time_finite": "follow-up times must be finite",
    "time_positive": "follow-up times must be > 0",
    "time_range": "follow-up times must lie between 1e-100 and 1e100 (rescale the time unit)",
    "time_spread": "the longest follow-up may be at most 1e12 times the shortest",
    "event_binary": "the event column must be 0 (censored) or 1 (event)",
    "id_unique": "subject ids must be unique unless data.entry is given (then rows of one id "
    "are the (start, stop] pieces of its follow-up)",
    "entry_nonnegative": "entry times must be >= 0",
    "entry_before_time": "a row's entry time must be < its time (at risk on (entry, time])",
    "pieces_overlap": "the (entry, time] pieces of one id may not overlap",
    "event_last_piece": "at most one event per id, on the piece that ends last",
    "strata_levels": "the strata column needs at least two levels",
    "cluster_levels": "the frailty cluster column needs at least two levels",
    "categorical_reference": "a categorical covariate's reference level must occur in the data",
    "categorical_levels": "a categorical covariate's values must be among its declared levels",
    "ordinal_levels": "an ordinal covariate's values may not lie below its lowest level",
    "constant": "a covariate must take at least two values",
    "collinear": "covariates may not be perfectly collinear (with each other or a constant)",
    "min_events": "at least one event is needed",
}


@dataclass(frozen=True)
class ColumnUse:
    """A column of the data file and its role in the model."""

    name: str
    role: Role
