"""How much the conclusions depend on the choices made: prior, cut-point and case sweeps."""
