"""The kinds of figure panel a report can draw (also the choices of `sim plot --kind`)."""

KINDS = ("fan", "distributions", "survival", "response", "heatmap", "sensitivity", "levers")
