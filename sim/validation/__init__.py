"""The model against the world: stylized facts from the source article (`facts`); measured data,
calibration, backtests and forecasts live beside it. The public names of `facts` are
importable from here.
"""

from sim._lazy import reexport

__all__ = [
    "DEFAULT_REPLICATES",
    "DEFAULT_SEED",
    "OPS",
    "Target",
    "CheckResult",
    "Sample",
    "run_sample",
    "wilson",
    "paired_interval",
    "Rerun",
    "no_alliance",
    "ties_positive",
    "unsc_lukewarm",
    "offer_raises_betrayal",
    "iran_hedges",
    "no_break_with_west",
    "summit_fades",
    "isolation_drives_convergence",
    "CHECKS",
    "validate",
    "at_range_ends",
    "results_table",
]
__getattr__ = reexport(__name__, "facts", tuple(__all__))
