"""Simulation-based calibration of a specification (compile-once, resumable)."""
