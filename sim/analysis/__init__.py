"""Statistics of results: proportions with intervals, survival curves, sweep aggregation and
sensitivity indices (`statistics`), headline numbers (`summary`), levers: feature scores and
scenario discovery with EMA Workbench (`levers`), and everything a report says (`findings`).
The public names of `statistics` are importable from here.
"""

from sim._lazy import reexport

__all__ = [
    "events_of",
    "Results",
    "load",
    "labels_for",
    "wilson",
    "survival",
    "dyads",
    "dyad_column",
    "series",
    "parameter_names",
    "point_means",
    "sobol_second_order",
    "sobol",
    "morris",
    "sensitivity",
    "probability_grid",
]
__getattr__ = reexport(__name__, "statistics", tuple(__all__))
