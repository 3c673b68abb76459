"""Self-contained HTML report of a fit (first version: tables only)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from necc_bayes.fitting import PEMResult


def render_fit_report(result: PEMResult) -> str:
    """Return a self-contained HTML page: spec, hazard ratios, survival summary, diagnostics."""
    diag = result.diagnostics()
    status = "PASSED" if diag.passed else "FAILED: " + "; ".join(diag.failures)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>necc-bayes fit: {html.escape(result.spec.name)}</title></head><body>",
        f"<h1>{html.escape(result.spec.name)}</h1>",
        f"<p>{html.escape(result.spec.description)}</p>",
        f"<p>Data: {html.escape(result.checked.cohort.source)}; "
        f"spec hash {result.idata.attrs.get('spec_hash', '')}</p>",
        f"<h2>Diagnostics</h2><p><b>{html.escape(status)}</b></p>",
        "<h2>Hazard ratios</h2>",
        result.hazard_ratios().to_html(index=False, float_format=lambda v: f"{v:.3g}"),
        "<h2>Survival summary</h2>",
        result.survival_summary().to_html(index=False, float_format=lambda v: f"{v:.3g}"),
        "</body></html>",
    ]
    return "\n".join(parts)
