"""Performance harness: the service measured against baselines on the same machine, same run."""
