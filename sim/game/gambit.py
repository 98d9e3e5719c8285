"""A game tree (`sim.game.trees`) as a Gambit extensive-form game (pygambit 16).

Gambit (McKelvey, McLennan and Turocy, The Gambit Project) is the standard game-theory
toolkit; its `.efg` files open in Gambit's own graphical and command-line tools. pygambit is
imported here and in `sim.game.solve` only (extra ``game``).
"""

from __future__ import annotations

from typing import Any

from sim.errors import SimInputError
from sim.game.trees import Decision, Terminal, Tree

INSTALL_HINT = "pip install 'sim[game]'  (or: pip install 'pygambit>=16.3')"
DIGITS = 6  # payoffs are written with 6 decimals: far below any utility gap that matters


def gbt() -> Any:
    """The pygambit module, or a one-line refusal saying how to install it."""
    try:
        import pygambit
    except ImportError:
        raise SimInputError(f"games need pygambit: {INSTALL_HINT}", field="--game") from None
    return pygambit


def to_gambit(tree: Tree) -> Any:
    """The tree as a `pygambit.Game`; information sets follow the tree's infoset keys."""
    g = gbt()
    game = g.Game.new_tree(players=[tree.stage.scenario.label(p) for p in tree.players])
    game.title = tree.title
    player = dict(zip(tree.players, game.players, strict=True))
    infosets: dict[str, Any] = {}

    def grow(node: Any, spec: Decision | Terminal) -> None:
        if isinstance(spec, Terminal):
            payoffs = [round(float(v), DIGITS) for v in _payoffs(tree, spec)]
            label = "; ".join(f"{a} {m}" for a, m in spec.history)
            game.set_outcome(node, game.add_outcome(label, payoffs))
            return
        if spec.infoset in infosets:
            game.append_infoset(node, infosets[spec.infoset])
        else:
            game.append_move(node, player[spec.player], list(spec.moves))
            node.infoset.label = spec.infoset
            infosets[spec.infoset] = node.infoset
        for child_node, child in zip(node.children, spec.children, strict=True):
            grow(child_node, child)

    grow(game.root, tree.root)
    return game


def _payoffs(tree: Tree, leaf: Terminal) -> list[float]:
    index = tree.stage.params.actors
    return [float(leaf.payoff.total[index.index(p)]) for p in tree.players]


def write_efg(game: Any, path) -> None:
    """Write the game as a Gambit `.efg` file."""
    from sim import results

    results.write_text(game.to_efg(), path)
