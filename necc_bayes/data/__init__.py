"""The boundary: a CSV path or a DataFrame in, a validated cohort out.

Reading and validating cohort files (every problem reported at once, naming the file,
column, rows and rule), the design matrix, small-sample fragility checks, files bundled with
the package, and atomic output directories.
"""
