"""The model specification as data: sections, prior families, parsing and printing."""
