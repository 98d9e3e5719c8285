"""Solara entry module of `sim explore`: ``solara run sim/viz_app.py``.

The scenario comes from the environment variable ``SIM_EXPLORE_SCENARIO`` (set by
`sim explore`); without it the baseline scenario is shown.
"""

from __future__ import annotations

import os

from sim.model import DEFAULT_SCENARIO
from sim.report.viz import SCENARIO_ENV, make_page

SCENARIO = os.environ.get(SCENARIO_ENV) or str(DEFAULT_SCENARIO)

page = make_page(SCENARIO)
Page = page
