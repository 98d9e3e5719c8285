"""The Python API checks what the command line checks."""

import pytest

from sim import api, whatif
from sim.errors import SimInputError
from sim.model import AllianceModel
from sim.scenario import load

from .conftest import BASELINE


@pytest.mark.parametrize("months", [0, 2.5, -1, True])
def test_simulate_refuses_months_that_are_not_whole_and_positive(months):
    with pytest.raises(SimInputError, match="months"):
        api.simulate(BASELINE, replicates=2, months=months)


def test_simulate_refuses_zero_replicates_as_input_error():
    with pytest.raises(SimInputError, match="replicates"):
        api.simulate(BASELINE, replicates=0)


def test_mesa_model_refuses_zero_months():
    with pytest.raises(SimInputError, match="months"):
        AllianceModel(BASELINE, months=0)


def test_a_mistyped_parameter_gets_did_you_mean():
    with pytest.raises(SimInputError, match="did you mean actors.russia.salience.ukraine"):
        api.simulate(BASELINE, replicates=2, overrides={"actors.russia.salience.ukrain": 0.9})
    with pytest.raises(SimInputError, match="did you mean actors.russia.salience.ukraine"):
        api.evaluate([[0.5]], ["actors.russia.salience.ukrain"], replicates=2)


def test_shipped_scenarios_are_nameable_without_their_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside the checkout
    assert api.simulate("betrayal_in_syria", replicates=2, months=2).scenario.name == (
        "betrayal_in_syria"
    )
    assert load("history_2015_2025.toml").name == "history_2015_2025"
    with pytest.raises(SimInputError):
        load("no_such_scenario")


def test_whatif_errors_from_python_name_keywords_not_flags():
    with pytest.raises(SimInputError) as err:
        whatif.whatif(BASELINE, "2018-05", impose={"nobody": "x"}, replicates=2)
    assert err.value.field == "impose" and "--" not in str(err.value)
    with pytest.raises(SimInputError) as err:
        whatif.whatif(BASELINE, "2099-01", events=["western_offer"], replicates=2)
    assert err.value.field == "at"
    assert whatif.for_cli(err.value).field == "--at"
    assert whatif.for_cli(SimInputError("x", field="events")).field == "--event"


def test_a_whatif_with_no_change_is_refused():
    with pytest.raises(SimInputError, match="nothing to change"):
        whatif.whatif(BASELINE, "2018-05", replicates=2)


def test_sim_whatif_with_no_change_is_refused_naming_its_flags(capsys):
    from sim.commands.cli import main

    assert main(["whatif", str(BASELINE), "--at", "2018-05", "-n", "2"]) == 2
    err = capsys.readouterr().err
    assert "nothing to change" in err and "--impose or --event" in err
