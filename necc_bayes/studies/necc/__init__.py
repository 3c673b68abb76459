"""The NECC recurrence study re-analysed.

Its published tables, the SYNTHETIC cohort calibrated to them, the paper-vs-posterior
comparison and the main job (``necc-bayes reproduce``).
"""
