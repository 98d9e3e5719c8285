"""The model against the world, one sub-package per job: stylized facts from the source
article (`facts`), measured data and the measurement model (`data`), calibration
(`calibration`), backtests (`backtest`) and sealed forecasts (`forecast`). The public names of
`facts.facts` are importable from here.
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
__getattr__ = reexport(__name__, "facts.facts", tuple(__all__))
