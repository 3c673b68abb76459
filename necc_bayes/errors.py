"""Exceptions and warnings raised by necc-bayes.

Every error a user can cause with bad input derives from :class:`InputError`
(itself a ``ValueError``), so the command line can turn it into one message and
exit code 2. Everything else is a bug or an environment problem (exit code 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXIT_OK = 0
"""Command-line exit code: success."""
EXIT_ERROR = 1
"""Command-line exit code: anything other than bad input."""
EXIT_BAD_INPUT = 2
"""Command-line exit code: bad data, specification or arguments."""
EXIT_DIAGNOSTICS_FAILED = 3
"""Command-line exit code: the result was written but convergence diagnostics failed.

``fit``: its own; ``reproduce``: any of its fits; ``sensitivity``: the fit it sweeps.
"""
EXIT_INTERRUPTED = 130
"""Command-line exit code: interrupted (Ctrl-C, SIGINT; 128 + 2 as shells report it)."""


class NeccBayesError(Exception):
    """Base class of every exception raised by necc-bayes."""


@dataclass(frozen=True)
class Problem:
    """One violated rule in a data file or specification.

    Parameters
    ----------
    rule : str
        Short machine-readable rule name, e.g. ``"time_positive"``.
    message : str
        Human-readable explanation.
    column : str or None
        Offending column (data) or key (spec).
    rows : tuple of int
        Data rows counted from 1 (the first row after the CSV header is row 1; it is on
        line 2 of the file).
    """

    rule: str
    message: str
    column: str | None = None
    rows: tuple[int, ...] = field(default_factory=tuple)

    def render(self, label: str = "column") -> str:
        """Return the problem as one line: rule, column (or spec key), rows, message."""
        parts = [f"[{self.rule}]"]
        if self.column is not None:
            parts.append(f"{label} '{self.column}'")
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:10])
            more = f" (+{len(self.rows) - 10} more)" if len(self.rows) > 10 else ""
            parts.append(f"row{'s' if len(self.rows) > 1 else ''} {shown}{more}")
        return " ".join(parts) + f": {self.message}"


class InputError(NeccBayesError, ValueError):
    """Bad user input: carries every problem found, not just the first.

    Parameters
    ----------
    source : str
        The file (or other origin) the problems were found in.
    problems : list of Problem
        Every rule violated.
    """

    kind = "input"
    label = "column"
    note = ""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = list(problems)
        super().__init__(self.render())

    @property
    def rules(self) -> list[str]:
        """Names of the violated rules, in order."""
        return [p.rule for p in self.problems]

    def render(self) -> str:
        """Return a multi-line message naming the source and each problem.

        Command-line options (a source or column starting with ``--``) are called options
        and arguments, not columns or keys; the note on row numbering appears only when a
        problem names rows.
        """
        n = len(self.problems)
        arguments = self.source.startswith("--") or self.source == "arguments"
        kind = "argument" if arguments else self.kind
        note = self.note if any(p.rows for p in self.problems) else ""
        head = f"{kind} error in {self.source}: {n} problem{'s' if n != 1 else ''}{note}"
        lines = [
            p.render("option" if (p.column or "").startswith("--") else self.label)
            for p in self.problems
        ]
        return "\n".join([head, *("  - " + line for line in lines)])


class DataError(InputError):
    """The data file violates a rule (missing column, bad value, ...)."""

    kind = "data"
    note = " (rows are data rows counted from 1; file line = row + 1)"


class SpecError(InputError):
    """The model specification is invalid (unknown key, impossible prior, ...)."""

    kind = "spec"
    label = "key"


class ArgumentError(InputError):
    """A command-line option (or a function argument) has an impossible value."""

    kind = "argument"
    label = "option"


class OutputError(NeccBayesError, ValueError):
    """The output directory cannot be used (not writable, a parent is a file, ...)."""


class OutputExistsError(OutputError):
    """The output directory exists and is not empty, and overwriting was not requested."""


class IncompleteSamplingError(NeccBayesError, RuntimeError):
    """The sampler returned fewer draws than asked for, or NaN draws (e.g. interrupted)."""


class ConvergenceWarning(RuntimeWarning):
    """A fit failed one of the convergence diagnostics."""


class InputWarning(UserWarning):
    """The input was used, but not exactly as written (cuts sorted, fewer intervals, ...)."""


class StaleOutputWarning(UserWarning):
    """Partial output directories left by a killed run were found (and removed)."""


class SparseDataWarning(RuntimeWarning):
    """Sparse cells, separation or empty intervals make an estimate fragile."""


class PriorScaleWarning(UserWarning):
    """A default prior is nearly flat or very tight on the scale of a continuous covariate."""


class ProportionalHazardsWarning(RuntimeWarning):
    """The proportional-hazards check flagged a term (its log-HR seems to change over time)."""
