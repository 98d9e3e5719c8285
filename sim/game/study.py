"""A scenario's game at a date, solved and set beside the simulation.

`study` builds the stage (the runs' world at the date), the game tree, the Gambit game, its
equilibria and QRE, the thresholds asked for, and the comparison of the QRE with the moves the
simulated runs made in the same situations. `describe` says it in words; `record` is the JSON
written beside the `.efg` file.

Why the two can differ, and which to believe (docs/game.md): the simulation's actors are
myopic (each month they weigh one month's utility and expect the others to repeat last month's
stance) and pay the cost of change every month they consider leaving their policy; the game's
players weigh the whole horizon and foresee the others' replies. Where the QRE and the
simulated shares agree, the simulation's noisy choice is what a far-sighted actor would do
too. Where they disagree strongly, the game answers the question "what would a strategist do",
the simulation "what does this model's short-sighted actor do"; for the headline questions
(is the trade credible, must the West's offer be larger), the game is the better guide,
because credibility is a statement about foresight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import SimInputError
from sim.game import gambit, solve, stage, trees

DISAGREE = 0.3  # a QRE probability this far from the simulated share is a strong disagreement
MIN_MONTHS = 30  # run-months needed before a simulated share is compared


@dataclass(frozen=True)
class Study:
    """A solved game and its comparison with the runs."""

    tree: trees.Tree
    game: Any
    solution: solve.Solution
    comparison: list[dict[str, Any]]
    thresholds: list[solve.Threshold] = field(default_factory=list)


def property_of(tree: trees.Tree) -> tuple[str, str, str]:
    """The equilibrium property a game's thresholds and sweeps track: (infoset, move, words),
    the move's being chosen at that information set by the subgame-perfect equilibrium
    (whether or not play reaches it: an SPE says what each player would do anywhere).

    The deal: Russia, offered, takes the trade (the trade is credible; whether the West then
    offers is reported beside it). The nuclear file: Iran answers the West's friendliest
    policy toward it (engagement) with its most Western-leaning action (largest stance toward
    the West: negotiating with the US).
    """
    if tree.kind == "deal":
        return "R1", "trade", "Russia, offered, takes the trade at the subgame-perfect equilibrium"
    p, st = tree.stage.params, tree.stage
    west, iran = tree.players
    i, w = st.actor(iran), st.actor(west)
    # the West's friendliest policy toward Iran (engage): does engagement bring Iran to talk?
    k, first = max(
        enumerate(tree.root.moves),
        key=lambda km: p.stance[0, w, p.actions[w].index(km[1]), i],
    )
    moves = tree.root.children[k].moves
    friendliest = max(moves, key=lambda m: p.stance[0, i, p.actions[i].index(m), w])
    return (
        f"I:{first}",
        friendliest,
        f"Iran answers the West's '{first}' with '{friendliest}' at the subgame-perfect "
        "equilibrium",
    )


def holds(tree: trees.Tree, game: Any | None = None) -> bool:
    """Whether the game's property (`property_of`) holds at its subgame-perfect equilibrium."""
    game = gambit.to_gambit(tree) if game is None else game
    infoset, move, _ = property_of(tree)
    return solve.spe(game).probs[infoset][move] > 0.5


def compare(tree: trees.Tree, solution: solve.Solution) -> list[dict[str, Any]]:
    """One row per (information set, move): QRE and SPE probabilities beside the share of
    run-months in the same situation that made the same move.
    """
    rows = []
    for key, what in tree.infosets.items():
        counts = tree.observed[key](tree.stage)
        n = sum(counts.values())
        for move, k in counts.items():
            q = solution.qre.probs[key][move]
            share = k / n if n else None
            rows.append(
                {
                    "infoset": key,
                    "situation": what,
                    "move": move,
                    "qre": q,
                    "spe": solution.spe.probs[key][move],
                    "simulated": share,
                    "run_months": n,
                    "disagree": share is not None
                    and n >= MIN_MONTHS
                    and abs(q - share) >= DISAGREE,
                }
            )
    return rows


def build(
    scenario: str | Path,
    date: str,
    kind: str = "deal",
    *,
    horizon: int = 12,
    discount: float = 0.95,
    replicates: int = 100,
    seed: int = 0,
    overrides: Mapping[str, Any] | None = None,
    offer: float | None = None,
) -> trees.Tree:
    """The game tree of ``kind`` for a scenario at a date (see `sim.game.trees`)."""
    if kind not in trees.GAMES:
        raise SimInputError(
            "unknown game", field="--game", found=kind, allowed=", ".join(trees.GAMES)
        )
    if horizon < 1:
        raise SimInputError("must be at least 1", field="--horizon", found=horizon)
    if not 0.0 < discount <= 1.0:
        raise SimInputError("must be in (0, 1]", field="--discount", found=discount)
    st = stage.at_date(
        scenario, date, horizon=horizon, replicates=replicates, seed=seed, overrides=overrides
    )
    if kind == "deal":
        return trees.deal(st, horizon, discount, offer)
    return trees.nuclear(st, horizon, discount)


def study(
    scenario: str | Path,
    date: str,
    kind: str = "deal",
    *,
    horizon: int = 12,
    discount: float = 0.95,
    replicates: int = 100,
    seed: int = 0,
    thresholds: Sequence[tuple[str, float, float]] = (),
    offer: float | None = None,
) -> Study:
    """Build, solve and compare a scenario's game; search each threshold (name, low, high).

    ``offer`` is the stake the West's offer adds in the deal game (default: the scenario's own
    offer event's). The threshold name ``offer`` searches it (the stage is reused);
    any other name is a scenario parameter (`sim run --list-parameters`), set for the whole
    run and the game (the runs are rerun at each step).
    """
    kw = {"horizon": horizon, "discount": discount, "replicates": replicates, "seed": seed}
    tree = build(scenario, date, kind, offer=offer, **kw)
    game = gambit.to_gambit(tree)
    solution = solve.solve(game, tree.temperature)
    found = []
    for name, low, high in thresholds:
        if name == "offer":
            if kind != "deal":
                raise SimInputError("'offer' is a parameter of the deal game", field="--threshold")

            def check(x: float) -> bool:
                return holds(trees.deal(tree.stage, horizon, discount, x))
        else:
            if name not in tree.stage.scenario.parameters():
                raise SimInputError(
                    "unknown parameter",
                    field="--threshold",
                    found=name,
                    allowed="offer or a name from `sim run --list-parameters`",
                )

            def check(x: float, name: str = name) -> bool:
                return holds(build(scenario, date, kind, overrides={name: x}, offer=offer, **kw))

        found.append(solve.threshold(check, name, low, high, tol=1e-2 * abs(high - low)))
    return Study(tree, game, solution, compare(tree, solution), found)


def _words(tree: trees.Tree, player: str, move: str) -> str:
    return tree.moves.get((player, move), move)


def describe(s: Study) -> str:
    """The game, its equilibria, the thresholds and the comparison, in words."""
    t, sol, sc = s.tree, s.solution, s.tree.stage.scenario
    label = {p: sc.label(p) for p in t.players}
    lines = [
        f"{t.title}",
        f"Payoffs: each player's utility terms of the model (rules.utility_terms), played out "
        f"month by month over {t.horizon} months, discounted by {t.discount} a month and "
        f"averaged (units of one month's utility), over {t.stage.replicates} runs' states at "
        f"the start of {t.stage.date} (seed {t.stage.seed}).",
        f"Players: {', '.join(label[p] for p in t.players)}; choice temperature "
        f"{t.temperature:.3g}, so the QRE's lambda = {sol.lam:.3g}.",
        "",
        "Moves (information sets):",
    ]
    for key, what in t.infosets.items():
        lines.append(f"  [{key}] {what}")
    lines += ["", "Outcomes and payoffs (" + ", ".join(label[p] for p in t.players) + "):"]
    for leaf in t.terminals():
        path = " > ".join(f"{m}" for _, m in leaf.history)
        idx = [t.stage.params.actors.index(p) for p in t.players]
        pay = "  ".join(f"{leaf.payoff.total[i]:+.3f}" for i in idx)
        lines.append(f"  {path:<55} {pay}")
    lines += ["", "Subgame-perfect equilibrium (the limit of the logit QRE), its path:"]
    for player, move, _ in solve.path(s.game, sol.spe):
        pid = next(p for p in t.players if label[p] == player)
        lines.append(f"  {player}: {move} ({_words(t, pid, move)})")
    infoset, move, words = property_of(t)
    verdict = sol.spe.probs[infoset][move] > 0.5
    on_path = solve.path_probability(s.game, sol.spe, infoset, move) > 0.5
    lines.append(
        f"  So: {words}? {'yes' if verdict else 'no'}; on the equilibrium path? "
        f"{'yes' if on_path else 'no'}."
    )
    pure = len(sol.nash)
    perfect = sum(ok for _, ok in sol.nash)
    lines += [
        "",
        f"Pure-strategy Nash equilibria: {pure}, of which {perfect} subgame perfect (the others "
        "rest on threats that would not be carried out).",
    ]
    paths: dict[str, list[int]] = {}
    for prof, ok in sol.nash:
        path = " > ".join(m for _, m, _ in solve.path(s.game, prof))
        paths.setdefault(path, [0, 0])
        paths[path][0] += 1
        paths[path][1] += ok
    for path, (n, ok) in paths.items():
        lines.append(f"  path {path}: {n} equilibria ({ok} subgame perfect)")
    for th in s.thresholds:
        lines.append("")
        if th.value is None:
            state = "holds" if th.at_low else "does not hold"
            lines.append(
                f"Threshold on {th.name}: the property {state} throughout [{th.low:g}, "
                f"{th.high:g}] (no switch found)."
            )
        else:
            lines.append(
                f"Threshold on {th.name}: {words} {'below' if th.at_low else 'above'} "
                f"{th.value:.3g} (bisection over [{th.low:g}, {th.high:g}], {th.steps} solves)."
            )
    lines += [
        "",
        f"Simulation beside equilibrium: QRE at lambda {sol.lam:.3g} and the share of run-months "
        f"(months {t.stage.date} + {t.horizon - 1}, {t.stage.replicates} runs) in the same "
        "situation that made the move:",
        f"  {'situation':<18} {'move':<16} {'QRE':>6} {'SPE':>5} {'simulated':>9} {'n':>6}",
    ]
    for row in s.comparison:
        sim = "-" if row["simulated"] is None else f"{row['simulated']:.2f}"
        flag = "  <- disagree" if row["disagree"] else ""
        lines.append(
            f"  {row['infoset']:<18} {row['move']:<16} {row['qre']:>6.2f} {row['spe']:>5.2f} "
            f"{sim:>9} {row['run_months']:>6}{flag}"
        )
    strong = sorted({r["infoset"] for r in s.comparison if r["disagree"]})
    lines.append("")
    if strong:
        lines.append(
            f"Strong disagreement at {', '.join(strong)}: the simulation's actors look one month "
            "ahead, expect the others to repeat last month's stance and pay the cost of change "
            "every month; the game's players foresee the replies over the horizon. For whether "
            "a move is credible (the headline questions), believe the game; for what this "
            "model's actors do month by month, the simulation."
        )
    else:
        lines.append(
            "No strong disagreement (|QRE - simulated| < "
            f"{DISAGREE} wherever {MIN_MONTHS}+ run-months compare): the simulation's myopic "
            "logit choice does what the foresighted QRE does."
        )
    return "\n".join(lines)


def record(s: Study) -> dict[str, Any]:
    """The study as plain data for the JSON file."""
    t = s.tree
    idx = [t.stage.params.actors.index(p) for p in t.players]
    return {
        "game": t.kind,
        "title": t.title,
        "scenario": t.stage.scenario.name,
        "date": t.stage.date,
        "month": t.stage.month,
        "horizon": t.horizon,
        "discount": t.discount,
        "replicates": t.stage.replicates,
        "seed": t.stage.seed,
        "players": list(t.players),
        "temperature": t.temperature,
        "lambda": s.solution.lam,
        "parameters": t.parameters,
        "infosets": t.infosets,
        "outcomes": [
            {
                "history": [list(h) for h in leaf.history],
                "payoffs": dict(zip(t.players, map(float, leaf.payoff.total[idx]), strict=True)),
                "terms": {
                    p: dict(zip(_terms(), map(float, leaf.payoff.terms[i]), strict=True))
                    for p, i in zip(t.players, idx, strict=True)
                },
            }
            for leaf in t.terminals()
        ],
        "spe": s.solution.spe.probs,
        "spe_path": [list(x) for x in solve.path(s.game, s.solution.spe)],
        "property": property_of(t)[2],
        "property_holds": s.solution.spe.probs[property_of(t)[0]][property_of(t)[1]] > 0.5,
        "property_on_path": _on_path(s),
        "nash": [{"profile": prof.probs, "subgame_perfect": ok} for prof, ok in s.solution.nash],
        "qre": s.solution.qre.probs,
        "comparison": s.comparison,
        "thresholds": [th.__dict__ for th in s.thresholds],
    }


def _on_path(s: Study) -> bool:
    infoset, move, _ = property_of(s.tree)
    return solve.path_probability(s.game, s.solution.spe, infoset, move) > 0.5


def _terms() -> tuple[str, ...]:
    from sim.model import rules

    return rules.TERMS


def sweep(
    scenario: str | Path,
    date: str,
    points: Any,
    kind: str = "deal",
    **kw: Any,
) -> Any:
    """The game's property at each point of a design: a table with one row per point (the
    point's parameter columns), ``equilibrium`` (the property holds at the subgame-perfect
    equilibrium), ``on_path`` (and play reaches it: for the deal, the West offers) and
    ``qre_probability`` (the QRE probability of the property's move where it is chosen),
    ready for `sim.analysis.levers.levers` (one row per point, ``per="run"``).

    ``points`` is a DataFrame whose columns are parameter names: ``offer`` (deal game) or
    scenario parameters.
    """
    import pandas as pd

    rows = []
    for _, point in points.iterrows():
        values = point.to_dict()
        offer = values.pop("offer", kw.pop("offer", None))
        tree = build(scenario, date, kind, overrides=values or None, offer=offer, **kw)
        game = gambit.to_gambit(tree)
        infoset, move, _ = property_of(tree)
        q = solve.qre(game, 1.0 / tree.temperature)
        spe = solve.spe(game)
        rows.append(
            {
                **point.to_dict(),
                "equilibrium": spe.probs[infoset][move] > 0.5,
                "on_path": solve.path_probability(game, spe, infoset, move) > 0.5,
                "qre_probability": q.probs[infoset][move],
            }
        )
    return pd.DataFrame(rows)


def grid(**ranges: Sequence[float]) -> Any:
    """A full grid of parameter values as a DataFrame (one column per name)."""
    import pandas as pd

    mesh = np.meshgrid(*ranges.values(), indexing="ij")
    return pd.DataFrame({k: m.ravel() for k, m in zip(ranges, mesh, strict=True)})


def parse_grid(text: str) -> tuple[str, np.ndarray]:
    """``NAME=LOW:HIGH:N`` as (name, N evenly spaced values from LOW to HIGH)."""
    name, sep, rng = text.partition("=")
    try:
        low, high, n = rng.split(":")
        low, high, k = float(low), float(high), int(n)
    except ValueError:
        raise SimInputError(
            "expected NAME=LOW:HIGH:N", field="--grid", found=text, allowed="e.g. offer=0:4:9"
        ) from None
    if not sep or not name.strip() or not low < high or not 2 <= k <= 50:
        raise SimInputError(
            "expected NAME=LOW:HIGH:N with LOW < HIGH and 2 <= N <= 50",
            field="--grid",
            found=text,
        )
    return name.strip(), np.linspace(low, high, k)


def write_grid(table: Any, path: Path, meta: Mapping[str, Any], names: Sequence[str]) -> None:
    """Write a grid's table as a sweep-shaped results directory (one "run" per point,
    replicate 0), so `sim levers DIR --outcome equilibrium` and `sim.analysis.load` read it.
    """
    from sim import results

    (path / "runs").mkdir(parents=True)
    runs = table.copy()
    runs.insert(0, "point", np.arange(len(runs)))
    runs.insert(1, "replicate", 0)
    results.write_table(runs[["point", *names]], path / "points.parquet")
    results.write_table(runs, path / "runs" / "part-000000.parquet")
    results.write_json(
        {
            **meta,
            "kind": "sweep",
            "design": "grid",
            "points": len(runs),
            "replicates": 1,
            "parameters": [
                {"name": n, "low": float(runs[n].min()), "high": float(runs[n].max())}
                for n in names
            ],
            "note": "a sweep over the game, not over runs: one row per point, the equilibrium "
            "property of the game built at that point (sim game --grid)",
        },
        path / "metadata.json",
    )


def describe_grid(table: Any, names: Sequence[str], words: str) -> str:
    """A grid's result in words: one line per point, or a two-way table for two parameters
    (each cell: the QRE probability of the property's move, starred where the property holds
    at the subgame-perfect equilibrium).
    """
    lines = [
        f"Grid: {words}? (* = yes at the subgame-perfect equilibrium; number = its QRE probability)"
    ]
    cell = [
        f"{q:.2f}{'*' if e else ' '}"
        for q, e in zip(table["qre_probability"], table["equilibrium"], strict=True)
    ]
    if len(names) == 2:
        a, b = names
        cols = sorted(table[b].unique())
        lines.append(f"  {a} \\ {b}: " + " ".join(f"{c:>6.3g}" for c in cols))
        for v, rows in table.assign(cell=cell).groupby(a, sort=True):
            by = dict(zip(rows[b], rows["cell"], strict=True))
            lines.append(f"  {v:>10.3g}    " + " ".join(f"{by[c]:>6}" for c in cols))
        return "\n".join(lines)
    for (_, row), c in zip(table.iterrows(), cell, strict=True):
        where = ", ".join(f"{n} = {row[n]:.3g}" for n in names)
        lines.append(f"  {where}: {c}")
    return "\n".join(lines)
