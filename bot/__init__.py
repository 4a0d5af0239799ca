"""notpromoted: a private companion for the days after an internal role went to someone else."""
