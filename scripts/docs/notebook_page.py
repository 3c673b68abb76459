"""Render the executed walkthrough notebook as a Markdown page (no notebook plugin needed).

Markdown cells are kept as they are, code cells become Python blocks, outputs are shown as
the notebook stored them (HTML tables and figures as HTML, text as text blocks). The
notebook itself is executed by ``make notebook`` (``scripts/build_notebook.py``); this only
reads it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "necc_reanalysis_walkthrough.ipynb"


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def _output(out: nbformat.NotebookNode) -> list[str]:
    if out.output_type == "stream":
        if out.name == "stderr":
            return []  # sampler progress and warnings of the executing kernel
        return ["```text", _text(out.text).rstrip(), "```", ""]
    data = out.get("data", {})
    if "text/html" in data:
        return ['<div class="nb-output">', _text(data["text/html"]), "</div>", ""]
    if "image/png" in data:
        return [f'<img alt="figure" src="data:image/png;base64,{_text(data["image/png"])}">', ""]
    if "text/plain" in data:
        return ["```text", _text(data["text/plain"]).rstrip(), "```", ""]
    return []


def render(path: Path = NOTEBOOK, download: str | None = None) -> str:
    """The notebook as Markdown; ``download`` is a link to the ``.ipynb`` put at the top."""
    nb = nbformat.read(path, as_version=4)
    lines: list[str] = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            lines += [_text(cell.source), ""]
            if i == 0:
                lines += [
                    '!!! warning "SYNTHETIC cohort: not the study\'s results"',
                    "    Every posterior, curve and table computed from the cohort on this page "
                    "uses the bundled **synthetic** cohort",
                    "    (`data/synthetic/necc_synthetic_cohort.csv`), generated to match the "
                    "study's published tables.",
                    "    Only the numbers labelled as the paper's (and the ORR counts, which "
                    "are published) are the study's.",
                    "",
                ]
            if i == 0 and download:
                lines += [
                    f"[Download the notebook]({download}) · re-execute it with "
                    "`make notebook` (`scripts/build_notebook.py`). Rendered here as it was "
                    "last executed.",
                    "",
                ]
        elif cell.cell_type == "code":
            lines += ["```python", _text(cell.source), "```", ""]
            for out in cell.get("outputs", []):
                lines += _output(out)
    return "\n".join(lines).rstrip() + "\n"
