"""The data seam: a calibration problem reads its data through the source its declaration names."""

import importlib.util
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from sim.errors import SimInputError
from sim.validation.calibration import problem as problem_mod
from sim.validation.data import measurement as ms
from sim.validation.data import source

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"

# A whole new kind of data in one module: a constant "distance" per pair and year, read from a
# two-column file, whose measurement model is the alignment change plus one shift parameter.
TOY = """
from dataclasses import dataclass
import numpy as np
import pandas as pd
from sim.validation.data import measurement as ms
from sim.validation.data import source


@dataclass(frozen=True)
class Data:
    table: pd.DataFrame
    source: str
    sha256: str
    until: int


class Toy:
    name = "toy"
    parameters = ("toy.shift",)

    def load(self, until, path=None):
        table = pd.read_csv(path)
        return Data(table[table.year <= until], str(path), "0" * 64, until)

    def observe(self, decl, data, start, months=None):
        years = tuple(int(y) for y in data.table.year if y > decl.anchor[1])
        value = data.table.set_index("year").value.reindex(years).to_numpy()
        dist = np.tile(value, (len(decl.pairs), 1))
        return ms.Observed(
            decl.pairs, years, np.zeros(len(decl.pairs)), dist, np.full_like(dist, 0.1),
            data.table,
        )

    def predict(self, aligned, initial, obs, values, normals):
        return values["toy.shift"][:, None, None] + (initial[:, :, None] - aligned)

    def summary_names(self, obs):
        return tuple(f"{a}-{b}.mean" for a, b in obs.pairs)

    def summaries(self, predicted, obs):
        return predicted.mean(axis=2)

    def priors(self, decl, data):
        return (ms.Prior("toy.shift", -1.0, 1.0, "a toy's range"),)


source.register(Toy())
"""


@pytest.fixture
def toy_module(tmp_path):
    path = tmp_path / "toy_source.py"
    path.write_text(TOY)
    spec = importlib.util.spec_from_file_location("toy_source", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["toy_source"] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules["toy_source"]
    source._SOURCES.pop("toy", None)


def _declare(tmp_path: Path, kind: str) -> Path:
    (tmp_path / "measurement").mkdir(exist_ok=True)
    (tmp_path / "s.toml").write_text("")
    (tmp_path / "measurement" / "s.toml").write_text(
        textwrap.dedent(
            f"""
            [data]
            source = "{kind}"
            file = "toy.csv"
            anchor = [2011, 2015]
            session_months = [9, 12]
            [states]
            iran = ["IRN"]
            russia = ["RUS"]
            """
        )
    )
    (tmp_path / "toy.csv").write_text(
        "year,value\n" + "".join(f"{y},{0.1 * (y - 2010)}\n" for y in range(2010, 2020))
    )
    return tmp_path / "s.toml"


def test_the_declaration_chooses_the_un_general_assembly_by_default(baseline):
    decl = ms.load_declaration(BASELINE, baseline.actor_ids)
    assert decl.data_source == "unga"
    assert source.get(decl).name == "unga"


def test_a_toy_data_source_in_one_module_feeds_a_calibration_problem(
    toy_module, tmp_path, baseline
):
    scenario_path = _declare(tmp_path, "toy")
    pb = problem_mod.build(
        baseline, str(scenario_path), [], {}, 2018, seed=3, data_path=str(tmp_path / "toy.csv")
    )
    assert pb.data.name == "toy" and pb.names == ("toy.shift",)
    assert pb.observed.years == (2016, 2017, 2018)  # the toy's own cutoff held
    assert pb.statistics == ("iran-russia.mean",)
    assert pb.observed_statistics()["iran-russia.mean"] == pytest.approx(0.7)
    stats = pb.simulate(np.array([[0.0], [0.5]]), np.array([1, 1]))
    assert stats[1, 0] - stats[0, 0] == pytest.approx(0.5)  # the toy's own measurement model


def test_an_unknown_data_source_is_one_input_error(tmp_path, baseline):
    scenario_path = _declare(tmp_path, "nowhere")
    with pytest.raises(SimInputError, match="data.source"):
        problem_mod.build(baseline, str(scenario_path), [], {}, 2018, seed=3)
