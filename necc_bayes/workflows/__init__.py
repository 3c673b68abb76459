"""Many fits at once: the univariate screen, sensitivity sweeps, SBC and the task executor."""
