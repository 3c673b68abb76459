"""A deterministic SYNTHETIC cohort of 88 patients calibrated to the published tables."""
