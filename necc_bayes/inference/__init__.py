"""Model-agnostic inference tools: convergence diagnostics, PSIS-LOO, provenance."""
