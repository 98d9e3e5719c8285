"""The tree figure of a solved game and the report section of a `sim game` results directory.

A game directory holds ``game.efg`` (Gambit), ``game.json`` (`sim.game.study.record`) and
``tree.png``/``tree.svg`` (`tree`); its metadata kind is "game".
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from sim.report import figures


def tree(s: Any, ax=None):
    """Draw a solved game tree (a `sim.game.study.Study`): nodes by depth, each move labelled
    with its QRE probability, the subgame-perfect choices in red (its path bold), information
    sets with more than one node joined by a dashed line, payoffs at the leaves. Returns the
    axes.
    """
    from sim.game.trees import Terminal

    t = s.tree
    leaves = list(t.terminals())
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(11, 1.2 + 0.42 * len(leaves)), layout="constrained").subplots()
    spe, qre = s.solution.spe.probs, s.solution.qre.probs
    members: dict[str, list[tuple[float, float]]] = {}
    row = iter(range(len(leaves)))
    depth_max = max(len(leaf.history) for leaf in leaves)
    idx = [t.stage.params.actors.index(p) for p in t.players]

    def place(node, depth: int, on_path: bool) -> tuple[float, float]:
        if isinstance(node, Terminal):
            xy = (depth_max, -next(row))
            pay = ", ".join(f"{node.payoff.total[i]:+.2f}" for i in idx)
            ax.text(xy[0] + 0.05, xy[1], pay, va="center", fontsize=7)
            ax.plot(*xy, "s", ms=4, color="red" if on_path else "grey")
            return xy
        kids = []
        for move, child in zip(node.moves, node.children, strict=True):
            chosen = spe[node.infoset][move] > 0.5
            kids.append(
                (move, chosen, on_path and chosen, place(child, depth + 1, on_path and chosen))
            )
        xy = (depth, sum(k[3][1] for k in kids) / len(kids))
        for move, chosen, good, (cx, cy) in kids:
            color = "red" if good else "salmon" if chosen else "0.6"
            ax.plot([xy[0], cx], [xy[1], cy], color=color, lw=2 if chosen else 0.8)
            # labels half a level along one-level edges, further along long ones (less clutter)
            along = 0.5 if cx - xy[0] <= 1 else 1.2
            ax.text(
                xy[0] + along,
                xy[1] + along / (cx - xy[0]) * (cy - xy[1]),
                f"{move} {qre[node.infoset][move]:.2f}",
                fontsize=6.5,
                ha="center",
                va="bottom",
                color="darkred" if chosen else "0.25",
            )
        ax.plot(*xy, "o", ms=6, color="C0")
        ax.text(
            xy[0],
            xy[1] + 0.25,
            f"{t.stage.scenario.label(node.player)} [{node.infoset}]",
            fontsize=7,
            ha="center",
        )
        members.setdefault(node.infoset, []).append(xy)
        return xy

    place(t.root, 0, True)
    for points in members.values():
        if len(points) > 1:
            xs, ys = zip(*sorted(points, key=lambda p: p[1]), strict=True)
            ax.plot(xs, ys, ls="--", color="C1", lw=1)
    ax.set_xlim(-0.3, depth_max + 1.2)
    ax.axis("off")
    players = ", ".join(t.stage.scenario.label(p) for p in t.players)
    ax.set_title(
        f"{t.title}: moves with their QRE probability (lambda {s.solution.lam:.3g}); "
        f"subgame-perfect choices in red (bold: its path); dashed: one information set; "
        f"payoffs ({players})",
        fontsize=8,
    )
    return ax


def caption_of(meta: dict) -> str:
    """What a game figure shows: scenario, date, horizon, discount, runs, seed."""
    g = meta.get("game", {})
    return (
        f"scenario {meta.get('scenario_name')}, {g.get('date')}, horizon {g.get('horizon')} "
        f"months, discount {g.get('discount')}, payoffs over {meta.get('replicates')} runs' "
        f"states, seed {meta.get('seed')}"
    )


def section_html(path: Path, meta: dict) -> str:
    """The HTML section of one `sim game` results directory (figure embedded)."""
    rec = json.loads((Path(path) / "game.json").read_text())
    body = [
        f"<h3>{html.escape(rec['title'])}</h3>",
        f"<p>{html.escape(caption_of(meta))}. Subgame-perfect path: "
        + html.escape(" &gt; ".join(f"{p}: {m}" for p, m, _ in rec["spe_path"]))
        + f". {html.escape(rec['property'])}: <b>{'yes' if rec['property_holds'] else 'no'}</b>."
        "</p>",
    ]
    for th in rec["thresholds"]:
        where = (
            f"switches at {th['value']:.3g}"
            if th["value"] is not None
            else f"does not switch in [{th['low']:g}, {th['high']:g}]"
        )
        body.append(f"<p>Threshold on {html.escape(th['name'])}: the property {where}.</p>")
    rows = "".join(
        f"<tr><td>{html.escape(r['infoset'])}</td><td>{html.escape(r['move'])}</td>"
        f"<td>{r['qre']:.2f}</td><td>{r['spe']:.2f}</td>"
        f"<td>{'-' if r['simulated'] is None else format(r['simulated'], '.2f')}</td>"
        f"<td>{r['run_months']}</td><td>{'yes' if r['disagree'] else ''}</td></tr>"
        for r in rec["comparison"]
    )
    body.append(
        "<table><tr><th>situation</th><th>move</th><th>QRE</th><th>SPE</th>"
        "<th>simulated share</th><th>run-months</th><th>strong disagreement</th></tr>"
        f"{rows}</table>"
    )
    png = Path(path) / "tree.png"
    if png.exists():
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        body.append(
            f"<figure><img alt='game tree' src='data:image/png;base64,{data}'>"
            f"<figcaption>{html.escape(caption_of(meta))}</figcaption></figure>"
        )
    return "\n".join(body)


def save_tree(s: Any, path: Path, caption: str) -> list[Path]:
    """Draw and save the tree figure (PNG and SVG)."""
    return figures.save(tree(s), path, caption)
