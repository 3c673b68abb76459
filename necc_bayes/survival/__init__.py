"""Piecewise-exponential survival models.

Intervals, likelihood, PyMC model, sampling, compile-once refits, summaries, checks and the
fitted result.
"""
