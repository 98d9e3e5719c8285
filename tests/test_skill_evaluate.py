"""Rolling-origin evaluation: the cutoff at every origin, later sessions scored unchanged, a
leaking calibration refused, the command's results directory.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import SimInputError
from sim.scenario import load as load_scenario
from sim.validation.data import measurement as ms
from sim.validation.data import unga
from sim.validation.skill import covariate, evaluate, plan

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "data" / "unga" / "ideal_points_2000_2019.csv"
BASELINE = ROOT / "scenarios" / "baseline.toml"
CALIBRATION = ROOT / "calibrations" / "baseline_until_2019"

PLAN = """
[evaluation]
scenario = "{scenario}"
origins = [{first}, {last}]
horizons = [1, 2]
pairs = ["iran-united_states", "united_states-gulf"]
samples = 200
seed = 3
first_year = 2000
{data}

[scores]
crps = true
intervals = [0.5, 0.9]
pit_bins = 5
reference = "best_naive"
block = 2
replicates = 50

[forecasters.core]
kind = "core"

[forecasters.persistence]
kind = "persistence"
pooled = true

[forecasters.mean5]
kind = "window_mean"
years = 5

[forecasters.model]
kind = "model"
runs = 4
calibration = "{calibration}"

[forecasters.core_model]
kind = "core_model"
runs = 4
"""


def _plan(tmp_path: Path, first=2016, last=2019, data: Path | None = None, calibration="") -> Path:
    path = tmp_path / "eval.toml"
    path.write_text(
        PLAN.format(
            scenario=BASELINE,
            first=first,
            last=last,
            data=f'data = "{data}"' if data else "",
            calibration=calibration,
        )
    )
    return path


def _with_a_later_session(tmp_path: Path) -> Path:
    """The shipped data plus a synthetic session (2020: 2019's rows, shifted a little)."""
    lines = SHIPPED.read_text().splitlines()
    extra = []
    for line in lines[1:]:
        cells = line.split(",")
        if cells[3] == "2019":
            cells[2], cells[3] = "75", "2020"
            for k in (5, 6, 7, 8):
                cells[k] = f"{float(cells[k]) + 0.05:.6f}"
            extra.append(",".join(cells))
    path = tmp_path / "later.csv"
    path.write_text("\n".join(lines + extra) + "\n")
    return path


def test_a_later_session_in_the_data_is_scored_with_no_change(tmp_path):
    shipped = evaluate.run(plan.load(_plan(tmp_path, 2017, 2019)))
    later = evaluate.run(plan.load(_plan(tmp_path, 2017, 2019, _with_a_later_session(tmp_path))))
    assert shipped.last_year == 2019 and later.last_year == 2020
    scored = later.forecasts[later.forecasts.crps.notna()]
    assert scored.target.max() == 2020 and (scored.origin == 2019).any()
    # Forecasts made before 2020 do not change when 2020 is added; only more of them are scored.
    key = ["forecaster", "origin", "horizon", "pair"]
    a = shipped.forecasts.set_index(key)[["q05", "q50", "q95"]]
    b = later.forecasts.set_index(key).loc[a.index, ["q05", "q50", "q95"]]
    assert np.array_equal(a.to_numpy(), b.to_numpy())
    assert len(scored) > shipped.forecasts.crps.notna().sum()


def test_each_origin_sees_nothing_after_it(tmp_path):
    pl = plan.load(_plan(tmp_path, 2016, 2016))
    scenario = load_scenario(BASELINE)
    decl = ms.load_declaration(BASELINE, scenario.actor_ids)
    poisoned = tmp_path / "poisoned.csv"
    rows = [
        line if line.split(",")[3] <= "2016" or i == 0 else line.replace(".", "9", 3)
        for i, line in enumerate(SHIPPED.read_text().splitlines())
    ]
    poisoned.write_text("\n".join(rows) + "\n")
    out = [
        evaluate.forecast_origin(pl, decl, unga.load(2016, path), None, {})[0]
        for path in (SHIPPED, poisoned)
    ]
    assert out[0].keys() == out[1].keys()
    for key in out[0]:
        assert all(np.array_equal(x, y) for x, y in zip(out[0][key], out[1][key], strict=True))


def test_the_model_joins_from_the_origins_its_scenario_covers_and_zero_gives_the_core(tmp_path):
    ev = evaluate.run(plan.load(_plan(tmp_path, 2014, 2016)))
    f = ev.forecasts
    assert set(f[f.forecaster == "model"].origin) == {2015, 2016}  # after the anchor (2011-2015)
    first = ev.coefficients.set_index("origin").loc[2015]
    assert first.beta == 0.0 and first.n == 0  # nothing before 2015 to learn from
    key = ["origin", "horizon", "pair"]
    core = f[(f.forecaster == "core") & (f.origin == 2015)].set_index(key).q50
    both = f[(f.forecaster == "core_model") & (f.origin == 2015)].set_index(key).q50
    assert np.array_equal(core.to_numpy(), both.loc[core.index].to_numpy())
    # A sealed forecast's coefficient (`coefficient_at`) is the evaluation's at that origin.
    scenario = load_scenario(BASELINE)
    decl = ms.load_declaration(BASELINE, scenario.actor_ids)
    priors = ms.priors(decl, unga.load(2015))
    sim = covariate.simulate(scenario, decl, range(2000, 2019), 4, 3, priors)
    sim = sim.subset((("iran", "united_states"), ("united_states", "gulf")))
    again = evaluate.coefficient_at(2016, decl, str(SHIPPED), sim, 2000, (1, 2), 200, 3)
    at = ev.coefficients.set_index("origin").loc[2016]
    assert again.beta == pytest.approx(at.beta, rel=1e-12) and again.n == at.n == 2
    assert ev.reference in ("persistence", "mean5")
    assert set(ev.paired.forecaster) == {"core", "persistence", "mean5", "model", "core_model"} - {
        ev.reference
    }


def test_a_calibration_that_saw_a_later_session_is_refused(tmp_path):
    pl = plan.load(_plan(tmp_path, 2016, 2019, calibration=str(CALIBRATION)))
    with pytest.raises(SimInputError, match="leak"):
        evaluate.run(pl)


def test_the_command_refuses_a_leak_in_one_line(tmp_path):
    path = _plan(tmp_path, 2016, 2019, calibration=str(CALIBRATION))
    res = subprocess.run(
        [sys.executable, "-m", "sim", "evaluate", str(path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2
    assert "leak" in res.stderr and "Traceback" not in res.stderr


def test_an_unknown_forecaster_kind_is_one_input_error(tmp_path):
    path = _plan(tmp_path)
    path.write_text(path.read_text().replace('kind = "core"\n', 'kind = "oracle"\n', 1))
    with pytest.raises(SimInputError, match="forecasters.core.kind"):
        plan.load(path)


def test_the_command_writes_a_results_directory(tmp_path):
    path = _plan(tmp_path, 2016, 2018)
    out = tmp_path / "out"
    res = subprocess.run(
        [sys.executable, "-m", "sim", "evaluate", str(path), "--out", str(out), "--no-figures"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert "core" in res.stdout and "minus reference" in res.stdout
    summary = pd.read_parquet(out / "summary.parquet")
    assert {"core", "persistence", "mean5"} <= set(summary.forecaster)


def test_an_unknown_key_in_the_evaluation_is_one_input_error(tmp_path):
    path = _plan(tmp_path)
    path.write_text(path.read_text().replace("seed = 3", "seed = 3\ncutoff = 2019"))
    with pytest.raises(SimInputError, match="evaluation.cutoff"):
        plan.load(path)
