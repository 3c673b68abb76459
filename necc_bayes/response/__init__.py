"""Response-rate (ORR) comparison of two arms.

Beta-binomial maths, priors, decision rules and their operating characteristics.
"""
