"""Textbook games solved with Gambit through sim.game.solve, against their known equilibria."""

from __future__ import annotations

import math

import pytest

gbt = pytest.importorskip("pygambit")

from sim.game import solve  # noqa: E402


def entry_game(accommodate: float = 1.0, fight: float = -1.0):
    """Selten's entry game: the entrant stays out (0, 2) or enters; the incumbent then fights
    (-1, fight) or accommodates (1, accommodate).
    """
    g = gbt.Game.new_tree(players=["Entrant", "Incumbent"])
    g.append_move(g.root, "Entrant", ["In", "Out"])
    g.root.infoset.label = "E"
    enter, out = g.root.children
    g.append_move(enter, "Incumbent", ["Fight", "Accommodate"])
    enter.infoset.label = "I"
    fights, accommodates = enter.children
    g.set_outcome(out, g.add_outcome("out", [0, 2]))
    g.set_outcome(fights, g.add_outcome("fight", [-1, fight]))
    g.set_outcome(accommodates, g.add_outcome("acc", [1, accommodate]))
    return g


def matching_pennies(top_left: float = 9.0):
    """McKelvey and Palfrey's (1995) asymmetric matching pennies as a tree: the column
    player moves without seeing the row player's move (one information set).
    """
    g = gbt.Game.new_tree(players=["Row", "Column"])
    g.append_move(g.root, "Row", ["T", "B"])
    g.root.infoset.label = "row"
    g.append_move(list(g.root.children)[0], "Column", ["L", "R"])
    list(g.root.children)[0].infoset.label = "column"
    g.append_infoset(list(g.root.children)[1], list(g.root.children)[0].infoset)
    pay = {("T", "L"): (top_left, 0), ("T", "R"): (0, 1), ("B", "L"): (0, 1), ("B", "R"): (1, 0)}
    for i, r in enumerate("TB"):
        for j, c in enumerate("LR"):
            node = list(list(g.root.children)[i].children)[j]
            g.set_outcome(node, g.add_outcome(r + c, list(pay[(r, c)])))
    return g, pay


def test_entry_game_subgame_perfect_equilibrium_is_enter_and_accommodate():
    g = entry_game()
    spe = solve.spe(g)
    assert spe.move("E") == "In" and spe.move("I") == "Accommodate"
    assert solve.path(g, spe) == [
        ("Entrant", "In", pytest.approx(1.0, abs=1e-6)),
        ("Incumbent", "Accommodate", pytest.approx(1.0, abs=1e-6)),
    ]


def test_entry_game_nash_includes_the_non_credible_threat_flagged_not_perfect():
    found = {(p.move("E"), p.move("I")): ok for p, ok in solve.nash(entry_game())}
    # Backward induction: only (In, Accommodate) is subgame perfect; (Out, Fight) is a Nash
    # equilibrium held up by a threat the incumbent would not carry out.
    assert found == {("In", "Accommodate"): True, ("Out", "Fight"): False}


def test_logit_qre_solves_the_logit_equations_of_asymmetric_matching_pennies():
    g, pay = matching_pennies()
    for lam in (0.5, 2.0, 5.0):
        q = solve.qre(g, lam)
        p_t, p_l = q.probs["row"]["T"], q.probs["column"]["L"]
        u_t = p_l * pay[("T", "L")][0] + (1 - p_l) * pay[("T", "R")][0]
        u_b = p_l * pay[("B", "L")][0] + (1 - p_l) * pay[("B", "R")][0]
        v_l = p_t * pay[("T", "L")][1] + (1 - p_t) * pay[("B", "L")][1]
        v_r = p_t * pay[("T", "R")][1] + (1 - p_t) * pay[("B", "R")][1]
        assert p_t == pytest.approx(1 / (1 + math.exp(-lam * (u_t - u_b))), abs=1e-5)
        assert p_l == pytest.approx(1 / (1 + math.exp(-lam * (v_l - v_r))), abs=1e-5)
        # McKelvey and Palfrey (1995): the row player's own large payoff pulls it toward T at
        # every finite lambda, although T has probability one half in the Nash equilibrium.
        assert p_t > 0.5


def test_logit_limit_of_matching_pennies_is_its_mixed_nash_equilibrium():
    g, _ = matching_pennies()
    spe = solve.spe(g)
    # Row mixes so that Column is indifferent (1/2); Column so that Row is (9 q = 1 - q).
    assert spe.probs["row"]["T"] == pytest.approx(0.5, abs=1e-4)
    assert spe.probs["column"]["L"] == pytest.approx(0.1, abs=1e-4)


def test_threshold_search_recovers_a_planted_threshold():
    planted = 0.37  # the incumbent accommodates (so the entrant enters) iff its payoff > 0.37

    def enters(x: float) -> bool:
        return solve.spe(entry_game(accommodate=x, fight=planted)).move("E") == "In"

    th = solve.threshold(enters, "accommodate", 0.0, 1.0, tol=1e-4)
    assert (th.at_low, th.at_high) == (False, True)
    assert th.value == pytest.approx(planted, abs=2e-4)
    none = solve.threshold(enters, "accommodate", 0.5, 1.0)
    assert none.value is None and none.at_low and none.at_high


def test_path_probability_adds_up_over_the_moves_of_the_root():
    g, _ = matching_pennies()
    q = solve.qre(g, 2.0)
    total = sum(solve.path_probability(g, q, "row", m) for m in ("T", "B"))
    assert total == pytest.approx(1.0)
