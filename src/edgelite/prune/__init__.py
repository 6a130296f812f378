"""Post-training pruning: structured (coupled channel groups + least-squares repair) and sparse
(second-order repair), from calibration data. See api.py for the order of work."""

from edgelite.prune.api import PruneOptions, PruneResult, prune

__all__ = ["PruneOptions", "PruneResult", "prune"]
