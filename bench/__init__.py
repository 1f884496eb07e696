"""`make bench`: the performance budgets of SPEC section 6, measured in one run."""
