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
    "evaluate",
    "scenario_checks",
    "validate",
    "at_range_ends",
    "joint",
    "results_table",
]
__getattr__ = reexport(__name__, "facts", tuple(__all__))
