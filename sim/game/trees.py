"""Game trees built from a scenario: the deal and the nuclear file.

A tree is plain data (`Decision` and `Terminal` nodes); `sim.game.gambit` turns it into a
Gambit game. Players, moves and outcomes come from the scenario's roles, not from names typed
here: the first declared deal names the taker (Russia), the action that takes it (betray) and
the victim (Iran); the actor with an action that puts the deal on the table is the West, and
that action is its offer. Payoffs come from `sim.game.payoffs` (the model's utility terms over
the horizon).

**The deal** (C11): the West offers or not; Russia, offered, takes the trade or keeps backing
Iran; Iran responds with any of its actions, seeing whether Russia traded but *not* whether an
offer was made and refused (one information set holds "no offer" and "offer refused"); after a
trade the West, seeing Iran's response, honours the concessions (keeps its offer policy, the
stake stays raised) or reneges (returns to its other policy and takes the stake back while
Russia is bound by the deal).

**The nuclear file** (C7, C12, C14): the West chooses among its other policies toward Iran
(engage, isolate); Iran, seeing it, chooses among its actions (negotiate with the US, go it
alone, deepen with Russia, hedge).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from sim.errors import SimInputError
from sim.game.payoffs import Payoff, Plan, rollout
from sim.game.stage import Stage

GAMES = ("deal", "nuclear")


@dataclass(frozen=True)
class Terminal:
    """An outcome: the history that led to it, the plan the model plays out, its payoff."""

    history: tuple[tuple[str, str], ...]  # (actor id, move) from the root
    plan: Plan
    payoff: Payoff | None = None


@dataclass(frozen=True)
class Decision:
    """A decision node. Nodes with the same ``infoset`` key form one information set: the
    player cannot tell them apart (they must offer the same moves).
    """

    player: str
    infoset: str
    moves: tuple[str, ...]
    children: tuple[Decision | Terminal, ...]


@dataclass(frozen=True)
class Tree:
    """A game built from a scenario at a date.

    ``moves`` maps (actor id, move) to the model action it stands for (a reader's label);
    ``infosets`` describes each information set in words; ``observed`` gives, per information
    set, the run-months of the simulation in which the same choice arose and the move each
    made (for the comparison with the QRE): a function of the stage returning, per move,
    how many run-months chose it.
    """

    kind: str
    title: str
    players: tuple[str, ...]
    root: Decision
    horizon: int
    discount: float
    temperature: float
    stage: Stage
    moves: dict[tuple[str, str], str]
    infosets: dict[str, str]
    observed: dict[str, Callable[[Stage], dict[str, int]]] = field(repr=False)
    parameters: dict[str, float] = field(default_factory=dict)

    def terminals(self) -> Iterator[Terminal]:
        """Every outcome, in tree order (depth first, moves in order)."""

        def walk(node: Decision | Terminal) -> Iterator[Terminal]:
            if isinstance(node, Terminal):
                yield node
            else:
                for child in node.children:
                    yield from walk(child)

        return walk(self.root)


@dataclass(frozen=True)
class Roles:
    """Who plays which part in a scenario's games, as actor and action indices."""

    west: int
    offer: int  # the West's action that puts the deal on the table
    russia: int
    trade: int  # Russia's action that takes the deal
    iran: int
    deal: int
    issue: int  # the issue the offer raises the stake of
    size: float  # the scenario's own offer: the stake its offering event adds


def roles(stage: Stage) -> Roles:
    """The roles of a scenario, from its first deal; refused if it declares none."""
    sc, p = stage.scenario, stage.params
    if not sc.deals:
        raise SimInputError(
            "declares no deal, so it has no Western offer and no trade to build games from",
            file=sc.source,
            field="deals",
        )
    deal = sc.deals[0]
    d = p.deals.index(deal.id)
    offering = [(a.id, act.id) for a in sc.actors for act in a.actions if act.offers == deal.id]
    if not offering:
        raise SimInputError(
            f"no action puts the deal '{deal.id}' on the table, so no player can offer it",
            file=sc.source,
            field=f"deals.{deal.id}",
        )
    west, offer = offering[0]
    taker = p.actors.index(deal.actor)
    # Without an offering event, the offer is 1.0 on the issue the trade does most for
    size, issue = 1.0, int(np.argmax(p.effect[0, taker, p.actions[taker].index(deal.action)]))
    for ev in sc.events:
        if getattr(ev, "offers", None) == deal.id and ev.stakes:
            k, size = max(ev.stakes.items(), key=lambda kv: kv[1])
            issue = p.issues.index(k)
            break
    return Roles(
        west=stage.actor(west),
        offer=stage.action(west, offer),
        russia=stage.actor(deal.actor),
        trade=stage.action(deal.actor, deal.action),
        iran=stage.actor(deal.victim),
        deal=d,
        issue=issue,
        size=float(size),
    )


def _available(stage: Stage, i: int) -> list[int]:
    p = stage.params
    return [a for a in range(len(p.actions[i])) if p.valid[i, a] and p.available[0, i, a] > 0]


def _usual(stage: Stage, i: int, exclude: int) -> int:
    """The action actor ``i`` held most often across the runs at the date, other than
    ``exclude`` (ties and absences fall back to its best other available action).
    """
    held = stage.state.actions[:, i]
    options = [a for a in _available(stage, i) if a != exclude]
    if not options:
        raise SimInputError(
            f"{stage.scenario.label(stage.params.actors[i])} has no action besides "
            f"'{stage.params.actions[i][exclude]}' at {stage.date}",
            file=stage.scenario.source,
            field="--date",
        )
    counts = [(int((held == a).sum()), -k, a) for k, a in enumerate(options)]
    return max(counts)[2]


def _label(stage: Stage, i: int, a: int) -> str:
    actor = stage.scenario.actors[i]
    return next(x.label for x in actor.actions if x.id == stage.params.actions[i][a])


def _temperature(stage: Stage, players: tuple[int, ...]) -> float:
    """The players' choice temperature; a geometric mean when they differ (one lambda)."""
    t = stage.params.temp[0, list(players)]
    return float(np.exp(np.log(t).mean()))


def _freq(mask: np.ndarray, chosen: np.ndarray, moves: dict[str, int]) -> dict[str, int]:
    picked = chosen[mask]
    return {m: int((picked == a).sum()) for m, a in moves.items()}


def deal(stage: Stage, horizon: int, discount: float, offer: float | None = None) -> Tree:
    """The deal game at the stage's date (see the module docstring); ``offer`` is the stake the
    West's offer adds (default: the scenario's own offer event's).
    """
    r = roles(stage)
    p, ids = stage.params, stage.params.actors
    if r.offer not in _available(stage, r.west):
        raise SimInputError(
            f"the West's offer ('{p.actions[r.west][r.offer]}') is switched off at "
            f"{stage.date} by the scenario's regimes, so there is no deal game to play",
            file=stage.scenario.source,
            field="--date",
        )
    size = r.size if offer is None else float(offer)
    w0 = _usual(stage, r.west, r.offer)
    keep = _usual(stage, r.russia, r.trade)
    west, russia, iran = ids[r.west], ids[r.russia], ids[r.iran]
    iran_moves = {p.actions[r.iran][a]: a for a in _available(stage, r.iran)}

    def leaf(history, w, rr, a, offered, withdraw=False):
        plan = Plan(
            moves={r.west: w, r.russia: (rr,), r.iran: (a,)},
            offer=size if offered else 0.0,
            deal=r.deal if offered else -1,
            issue=r.issue,
            withdraw=withdraw,
        )
        return Terminal(history, plan, rollout(stage, plan, horizon, discount))

    def iran_node(history, key, w, rr, offered, traded):
        children = []
        for m, a in iran_moves.items():
            h = (*history, (iran, m))
            if traded:
                children.append(
                    Decision(
                        west,
                        f"W2:{m}",
                        ("honour", "renege"),
                        (
                            leaf((*h, (west, "honour")), (r.offer,), rr, a, True),
                            leaf((*h, (west, "renege")), (r.offer, w0), rr, a, True, True),
                        ),
                    )
                )
            else:
                children.append(leaf(h, w, rr, a, offered))
        return Decision(iran, key, tuple(iran_moves), tuple(children))

    offered = Decision(
        russia,
        "R1",
        ("trade", "keep"),
        (
            iran_node(
                ((west, "offer"), (russia, "trade")), "I:trade", (r.offer,), r.trade, True, True
            ),
            iran_node(
                ((west, "offer"), (russia, "keep")), "I:no-trade", (r.offer, w0), keep, True, False
            ),
        ),
    )
    root = Decision(
        west,
        "W1",
        ("offer", "no offer"),
        (offered, iran_node(((west, "no offer"),), "I:no-trade", (w0,), keep, False, False)),
    )
    moves = {
        (west, "offer"): _label(stage, r.west, r.offer),
        (west, "no offer"): _label(stage, r.west, w0),
        (west, "honour"): f"keep '{_label(stage, r.west, r.offer)}': the concessions stand",
        (west, "renege"): f"back to '{_label(stage, r.west, w0)}'; the concessions withdrawn",
        (russia, "trade"): _label(stage, r.russia, r.trade),
        (russia, "keep"): _label(stage, r.russia, keep),
        **{(iran, m): _label(stage, r.iran, a) for m, a in iran_moves.items()},
    }
    infosets = {
        "W1": f"{stage.scenario.label(west)}: offer the trade or not",
        "R1": f"{stage.scenario.label(russia)}, offered: take the trade or not",
        "I:trade": f"{stage.scenario.label(iran)}, seeing that Russia traded",
        "I:no-trade": f"{stage.scenario.label(iran)}, seeing no trade (it cannot tell whether "
        "an offer was refused)",
        **{
            f"W2:{m}": f"{stage.scenario.label(west)}, after the trade and Iran's '{m}': "
            "honour or renege"
            for m in iran_moves
        },
    }
    ch, open_, kept = stage.chosen, stage.offer_open[..., r.deal], stage.in_deal[..., r.deal]
    observed = {
        "W1": lambda s: _freq(
            ~open_ & ~kept,
            ch[..., r.west],
            {"offer": r.offer, "no offer": w0},
        ),
        "R1": lambda s: _freq(open_ & ~kept, ch[..., r.russia], {"trade": r.trade, "keep": keep}),
        "I:trade": lambda s: _freq(kept, ch[..., r.iran], iran_moves),
        "I:no-trade": lambda s: _freq(~kept, ch[..., r.iran], iran_moves),
        **{
            f"W2:{m}": (
                lambda s, a=a: _freq(
                    kept & (s.held[..., r.iran] == a),
                    ch[..., r.west],
                    {"honour": r.offer, "renege": w0},
                )
            )
            for m, a in iran_moves.items()
        },
    }
    return Tree(
        kind="deal",
        title=f"The deal: {stage.scenario.name} at {stage.date}",
        players=(west, russia, iran),
        root=root,
        horizon=horizon,
        discount=discount,
        temperature=_temperature(stage, (r.west, r.russia, r.iran)),
        stage=stage,
        moves=moves,
        infosets=infosets,
        observed=observed,
        parameters={"offer": size},
    )


def nuclear(stage: Stage, horizon: int, discount: float) -> Tree:
    """The nuclear-file game at the stage's date (see the module docstring)."""
    r = roles(stage)
    p, ids = stage.params, stage.params.actors
    west, iran = ids[r.west], ids[r.iran]
    west_moves = {p.actions[r.west][a]: a for a in _available(stage, r.west) if a != r.offer}
    iran_moves = {p.actions[r.iran][a]: a for a in _available(stage, r.iran)}
    if not west_moves:
        raise SimInputError(
            f"{stage.scenario.label(west)} has no policy toward Iran open at {stage.date}",
            file=stage.scenario.source,
            field="--date",
        )
    children = []
    for wm, w in west_moves.items():
        leaves = []
        for im, a in iran_moves.items():
            plan = Plan(moves={r.west: (w,), r.iran: (a,)})
            leaves.append(
                Terminal(((west, wm), (iran, im)), plan, rollout(stage, plan, horizon, discount))
            )
        children.append(Decision(iran, f"I:{wm}", tuple(iran_moves), tuple(leaves)))
    root = Decision(west, "W", tuple(west_moves), tuple(children))
    moves = {(west, m): _label(stage, r.west, a) for m, a in west_moves.items()}
    moves |= {(iran, m): _label(stage, r.iran, a) for m, a in iran_moves.items()}
    infosets = {"W": f"{stage.scenario.label(west)}: its policy toward Iran"}
    infosets |= {
        f"I:{m}": f"{stage.scenario.label(iran)}, seeing the West's '{m}'" for m in west_moves
    }
    ch = stage.chosen
    observed = {"W": lambda s: _freq(np.ones(ch.shape[:2], bool), ch[..., r.west], west_moves)}
    for m, w in west_moves.items():
        observed[f"I:{m}"] = lambda s, w=w: _freq(
            s.held[..., r.west] == w, ch[..., r.iran], iran_moves
        )
    return Tree(
        kind="nuclear",
        title=f"The nuclear file: {stage.scenario.name} at {stage.date}",
        players=(west, iran),
        root=root,
        horizon=horizon,
        discount=discount,
        temperature=_temperature(stage, (r.west, r.iran)),
        stage=stage,
        moves=moves,
        infosets=infosets,
        observed=observed,
    )


def build(stage: Stage, kind: str, horizon: int = 12, discount: float = 0.95) -> Tree:
    """The game ``kind`` ("deal" or "nuclear") at the stage's date."""
    if kind not in GAMES:
        raise SimInputError("unknown game", field="--game", found=kind, allowed=", ".join(GAMES))
    return deal(stage, horizon, discount) if kind == "deal" else nuclear(stage, horizon, discount)
