"""Presentation: figures (`figures`), figure panels (`gallery`), the report's narrative
(`narrative`), the self-contained HTML report (`html`) and the browser explorer (`viz`,
`viz_app`). The public names of `html` are importable from here.
"""

from sim._lazy import reexport

__all__ = [
    "KINDS",
    "scalars",
    "SENSITIVITY_OUTCOMES",
    "MAX_HEATMAP_PARAMETERS",
    "safe",
    "Panel",
    "caption",
    "panels",
    "headline_table",
    "STYLE",
    "SECTIONS",
    "render",
    "write",
]
__getattr__ = reexport(__name__, "html", tuple(__all__))
