"""HTML building blocks: a page of sections, escaped tables, embedded figures, collapsed blocks.

A page is a list of :class:`Section` (title, anchor, HTML body) put into the template
``templates/report.html.j2`` by :func:`render_page`: one self-contained file, figures embedded
as ``data:`` URIs, readable without a server. Everything here takes plain data (strings,
DataFrames) and returns escaped HTML.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from necc_bayes._version import __version__


@dataclass(frozen=True)
class Section:
    """One section of a report page."""

    title: str
    anchor: str
    body: Markup


def _env() -> Environment:
    return Environment(
        loader=PackageLoader("necc_bayes", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )


def render_page(title: str, sections: Sequence[Section], subtitle: Sequence[str] = ()) -> str:
    """Render sections into one self-contained HTML page."""
    template = _env().get_template("report.html.j2")
    return template.render(
        title=title, subtitle=list(subtitle), sections=list(sections), version=__version__
    )


def _fmt(v: object) -> str:
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, float | np.floating):
        x = float(v)
        if np.isnan(x):
            return "–"
        return f"{x:.0f}" if abs(x) >= 100 else f"{x:.4g}"
    return str(v)


def html_table(
    df: pd.DataFrame,
    *,
    row_class: Callable[[pd.Series], str] | None = None,
    cell_class: Callable[[str, pd.Series], str] | None = None,
) -> Markup:
    """Render a DataFrame as an escaped HTML table with optional row / cell classes."""
    head = "".join(f"<th>{escape(c)}</th>" for c in df.columns)
    rows = []
    for _, r in df.iterrows():
        cls = row_class(r) if row_class else ""
        cells = []
        for c in df.columns:
            cc = cell_class(str(c), r) if cell_class else ""
            attr = f' class="{cc}"' if cc else ""
            cells.append(f"<td{attr}>{escape(_fmt(r[c]))}</td>")
        rows.append(f'<tr class="{cls}">' + "".join(cells) + "</tr>")
    return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def figure(uri: str, caption: str, alt: str) -> Markup:
    """An embedded figure (``data:`` URI) with its caption."""
    return Markup(
        f'<figure><img src="{escape(uri)}" alt="{escape(alt)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def details(summary: str, body: Markup) -> Markup:
    """A collapsed block (long tables)."""
    return Markup(f"<details><summary>{escape(summary)}</summary>") + body + Markup("</details>")


def paragraph(text: str) -> Markup:
    """An explanatory paragraph."""
    return Markup(f'<p class="explain">{escape(text)}</p>')


def warnings_section(failures: Sequence[str], notes: Sequence[str] = ()) -> Section:
    """Failed checks (red) and advisory notes (amber); says so when there are none."""
    if not failures and not notes:
        body = Markup("<p>No warnings.</p>")
    else:
        items = "".join(f"<li>{escape(m)}</li>" for m in failures)
        note_items = "".join(f"<li>{escape(m)}</li>" for m in notes)
        body = Markup(f'<ul class="warnings">{items}</ul><ul class="notes">{note_items}</ul>')
    return Section("Warnings", "warnings", body)
