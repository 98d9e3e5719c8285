"""`sim blocs` reads every scenario, variants that list only what they change included."""

import pytest

from sim.commands.cli import main

from .conftest import SCENARIOS

SHIPPED = sorted(SCENARIOS.glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_blocs_reads_every_shipped_scenario(capsys, path):
    assert main(["blocs", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Landscape of 4 actors") and "Optimum: energy" in out


def test_blocs_reads_a_variant_without_actor_tables(tmp_path, capsys):
    variant = tmp_path / "slow.toml"
    variant.write_text(
        f'[scenario]\nextends = "{SCENARIOS / "baseline.toml"}"\nname = "slow"\n'
        "[dynamics]\nrate = 0.05\n"
    )
    assert main(["blocs", str(variant), "--month", "12"]) == 0
    assert "Optimum: energy" in capsys.readouterr().out
