"""Components and slider specs for the browser explorer (`sim explore`, Mesa's SolaraViz).

The page runs `ExploreModel`, which *is* `AllianceModel` (same rules, same seed, same
trajectory); it only widens the constructor to ``**kwargs`` because SolaraViz checks slider
names against a parameter literally called ``kwargs``, and it accepts the seed as text.

Everything drawn comes from the model's own observation methods (`trajectory()`, agents'
``action``), so the page cannot drift from `sim run`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.errors import SimInputError
from sim.model import DEFAULT_SCENARIO, AllianceModel
from sim.scenario import Scenario, load

# The scenario numbers offered as sliders (those absent from a scenario are skipped).
KEY_PARAMETERS: tuple[str, ...] = (
    "actors.russia.salience.ukraine",
    "actors.russia.salience.western_ties",
    "actors.russia.salience.syria_survival",
    "actors.iran.weights.autonomy",
    "actors.iran.weights.trust",
    "events.western_offer.hazard",
    "events.unsc_crisis.hazard",
    "alignment.iran.russia",
)

# Environment variable through which `sim explore` tells the Solara app its scenario.
SCENARIO_ENV = "SIM_EXPLORE_SCENARIO"
DEFAULT_SEED = 0
HAZARD_MAX = 0.2  # top of a hazard slider without evidence
SLIDER_STEPS = 100  # slider resolution: (high - low) / SLIDER_STEPS

# Words of the dotted names, for slider labels.
_PART_LABELS = {
    "actors": "",
    "events": "event",
    "weights": "weight",
    "salience": "salience",
    "alignment": "alignment",
    "hazard": "monthly hazard",
}


class ExploreModel(AllianceModel):
    """`AllianceModel` with the constructor shape SolaraViz expects; no other difference.

    ``seed`` may be text (from the page's seed box); dotted scenario names arrive as keywords.
    """

    def __init__(
        self,
        scenario: str | Path | Scenario = DEFAULT_SCENARIO,
        seed: int | str = DEFAULT_SEED,
        months: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scenario, seed=parse_seed(seed), months=months, **kwargs)


def parse_seed(seed: int | str | None) -> int:
    """Return a non-negative integer seed from an int or the text of the seed box."""
    text = str(DEFAULT_SEED if seed is None else seed).strip() or str(DEFAULT_SEED)
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise SimInputError("must be a non-negative integer", field="seed", found=seed)
    return value


# --------------------------------------------------------------------------------------------
# Sliders


def fallback_range(name: str, value: float) -> tuple[float, float]:
    """Return a plausible range by the parameter's scale, widened to include its value."""
    parts = name.split(".")
    signed = parts[0] == "alignment" or "position" in parts or "alignment" in parts[-3:-2]
    low, high = (-1.0, 1.0) if signed or value < 0 else (0.0, 1.0)
    if parts[-1] == "hazard":  # a monthly probability: plausible values are small
        high = HAZARD_MAX
    return min(low, value), max(high, value)


def slider_ranges(scenario_path: str | Path, names: tuple[str, ...]) -> dict[str, tuple]:
    """Slider ranges: `sim.scenario.evidence.evidence_ranges` where available, else by scale."""
    values = load(scenario_path).parameters()
    ranges: Mapping[str, tuple[float, float]] = {}
    try:
        from sim.scenario.evidence import evidence_ranges  # built by another part of the project
    except ImportError:
        evidence_ranges = None
    if evidence_ranges is not None:
        try:
            ranges = evidence_ranges(scenario_path) or {}
        except Exception:  # noqa: BLE001 - the sliders must still come up
            ranges = {}
    out = {}
    for name in names:
        if name not in values:
            continue
        value = float(values[name])
        low, high = ranges.get(name) or fallback_range(name, value)
        out[name] = (min(float(low), value), max(float(high), value))
    return out


def slider_label(name: str, scenario: Scenario) -> str:
    """Return a readable label such as 'Russia salience: ukraine'."""
    parts = name.split(".")
    if parts[0] == "actors" and len(parts) == 4 and parts[1] in scenario.actor_ids:
        return f"{scenario.label(parts[1])} {_PART_LABELS.get(parts[2], parts[2])}: {parts[3]}"
    if parts[0] == "alignment" and len(parts) == 3:
        return f"Initial alignment {scenario.label(parts[1])}-{scenario.label(parts[2])}"
    if parts[0] == "events" and len(parts) == 3:
        return f"{parts[1].replace('_', ' ')}: {_PART_LABELS.get(parts[2], parts[2])}"
    return name


def model_params(
    scenario_path: str | Path = DEFAULT_SCENARIO,
    names: tuple[str, ...] = KEY_PARAMETERS,
    seed: int = DEFAULT_SEED,
) -> dict[str, Any]:
    """SolaraViz ``model_params``: the scenario (fixed), the seed box and one slider per name."""
    scenario = load(scenario_path)
    values = scenario.parameters()
    params: dict[str, Any] = {
        "scenario": str(scenario_path),
        "seed": {"type": "InputText", "value": str(seed), "label": "Seed"},
    }
    for name, (low, high) in slider_ranges(scenario_path, names).items():
        params[name] = {
            "type": "SliderFloat",
            "value": float(values[name]),
            "label": slider_label(name, scenario),
            "min": low,
            "max": high,
            "step": round((high - low) / SLIDER_STEPS, 6),
        }
    return params


def initial_kwargs(params: Mapping[str, Any]) -> dict[str, Any]:
    """Return the keywords SolaraViz passes to the model for the params' defaults."""
    return {
        k: (v["value"] if isinstance(v, dict) and "type" in v else v) for k, v in params.items()
    }


# --------------------------------------------------------------------------------------------
# What the page shows, read from the model


def series_outcomes(model: AllianceModel) -> list[str]:
    """The declared per-month outcomes the DataCollector reports (``alignment``, a balance's
    ``<id>_index``), for the time-series plot.
    """
    from sim.model import outcomes

    return [o.name for o in outcomes.declared(model.params) if o.kind == "series"]


def betrayal_months(model: AllianceModel) -> list[int]:
    """Months (1-based) in which the betrayer chose the betrayal action so far (the first
    declared defection outcome; none if the scenario declares none).
    """
    if model.params.betrayal is None:
        return []
    b, action, _ = model.params.betrayal
    return [m + 1 for m, acts in enumerate(model._actions) if acts[b] == action]


def month_label(model: AllianceModel) -> str:
    """'Month 3 of 120 (2016-02)' for the current state."""
    month = int(model.state.month)
    when = f" ({model.scenario.date(month)})" if month > 0 else ""
    return f"Month {month} of {model.months}{when}"


def status_markdown(model: AllianceModel) -> str:
    """Render the month counter, this month's actions and the betrayal marker (Markdown)."""
    sc = model.scenario
    lines = [f"**{month_label(model)}**", ""]
    for agent in model.actor_agents:
        action = agent.action
        label = next((a.label for a in sc.actor(agent.actor_id).actions if a.id == action), "-")
        lines.append(f"- {agent.label}: {label}")
    lines += ["", "**Parameters of this run** (the sliders' values):"]
    values = sc.parameters()
    lines += [
        f"- {slider_label(name, sc)}: {values[name]:g}" for name in KEY_PARAMETERS if name in values
    ]
    months = betrayal_months(model)
    p = model.params
    if p.betrayal is None:
        return "\n".join(lines)
    who = sc.label(p.actors[p.betrayal[0]])
    victim = sc.label(p.actors[p.betrayal[2]])
    if months:
        lines += ["", f"**{who} betrayed {victim}** in month {months[0]} ({len(months)}x so far)"]
    else:
        lines += ["", f"No {who} betrayal of {victim} yet"]
    return "\n".join(lines)


def graph_figure(model: AllianceModel) -> Figure:
    """Draw the actors on a circle, edges coloured (red hostile, blue aligned) and sized."""
    import matplotlib as mpl

    p, sc = model.params, model.scenario
    a = model.state.alignment[0]
    n = len(p.actors)
    angles = np.pi / 2 - 2 * np.pi * np.arange(n) / n
    xy = np.c_[np.cos(angles), np.sin(angles)]
    cmap, norm = mpl.colormaps["RdBu"], mpl.colors.Normalize(-1, 1)
    betrayed = bool(betrayal_months(model))
    fig = Figure(figsize=(5, 4.4))
    ax = fig.subplots()
    for i in range(n):
        for j in range(i + 1, n):
            v = float(a[i, j])
            ax.plot(*xy[[i, j]].T, color=cmap(norm(v)), lw=1 + 7 * abs(v), zorder=1)
            mid = xy[[i, j]].mean(axis=0)
            ax.text(
                *mid,
                f"{v:+.2f}",
                ha="center",
                va="center",
                fontsize=8,
                zorder=3,
                bbox={"boxstyle": "round", "fc": "white", "ec": "none", "alpha": 0.8},
            )
    ax.scatter(*xy.T, s=500, c="#f4f4f4", edgecolors="#333", zorder=2)
    for i, actor in enumerate(p.actors):
        ax.text(*(xy[i] * 1.3), sc.label(actor), ha="center", va="center", fontsize=9)
    if betrayed:
        b, _, v = p.betrayal
        ax.annotate(
            "",
            xy=xy[v] * 0.9,
            xytext=xy[b] * 0.9,
            arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 2, "ls": "--"},
        )
    fig.colorbar(mpl.cm.ScalarMappable(norm, cmap), ax=ax, shrink=0.7, label="alignment")
    title = month_label(model) + (" - betrayal!" if betrayed else "")
    ax.set_title(title, fontsize=10)
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.5, 1.5)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def _mark_betrayals(ax, months: list[int]) -> None:
    for k, m in enumerate(months):
        ax.axvline(m, color="crimson", ls=":", lw=1, label="betrayal" if k == 0 else None)


def dyads_figure(model: AllianceModel) -> Figure:
    """Alignment of every pair of actors over the months so far, with betrayals marked."""
    traj = model.trajectory()
    sc, p = model.scenario, model.params
    fig = Figure(figsize=(6, 3.6))
    ax = fig.subplots()
    months = np.arange(traj.alignment.shape[1])
    for k, (i, j) in enumerate(traj.pairs):
        pair = f"{sc.label(p.actors[i])}-{sc.label(p.actors[j])}"
        ax.plot(months, traj.alignment[0, :, k], label=pair, lw=1.5)
    _mark_betrayals(ax, betrayal_months(model))
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlim(0, max(1, int(months[-1])))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("month")
    ax.set_ylabel("alignment")
    ax.set_title("Alignment per dyad", fontsize=10)
    ax.legend(fontsize=7, loc="lower left", ncol=2)
    return fig


def actions_figure(model: AllianceModel) -> Figure:
    """Each actor's chosen action per month (one strip per actor), with betrayals marked."""
    p, sc = model.params, model.scenario
    acts = np.array(model._actions, dtype=int).reshape(-1, len(p.actors))
    months = np.arange(1, len(acts) + 1)
    fig = Figure(figsize=(6, 1.2 * len(p.actors) + 0.6))
    axes = fig.subplots(len(p.actors), 1, sharex=True, squeeze=False)[:, 0]
    for i, ax in enumerate(axes):
        names = p.actions[i]
        if len(months):
            ax.step(months, acts[:, i], where="mid", lw=1.2)
            ax.scatter(months, acts[:, i], s=8, c=acts[:, i], cmap="tab10", vmin=0, vmax=9)
        _mark_betrayals(ax, betrayal_months(model))
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set_ylim(-0.5, len(names) - 0.5)
        ax.set_ylabel(sc.label(p.actors[i]), fontsize=8, rotation=0, ha="right", va="center")
    axes[-1].set_xlim(0.5, max(1, len(months)) + 0.5)
    axes[-1].set_xlabel("month")
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].set_title("Chosen action per actor", fontsize=10)
    fig.subplots_adjust(left=0.3, hspace=0.3)
    return fig


# --------------------------------------------------------------------------------------------
# Solara components (imported lazily: solara is an optional dependency)


def components(series: Sequence[str] = ("alignment",)) -> list[tuple[Callable, int]]:
    """Build the SolaraViz components: status, graph, dyad alignment, actions, and a plot of
    the declared per-month outcomes ``series`` (`series_outcomes`).
    """
    import solara
    from mesa.visualization import make_plot_component
    from mesa.visualization.utils import update_counter

    def figure(fig: Figure) -> None:
        solara.FigureMatplotlib(fig, format="png", bbox_inches="tight")

    @solara.component
    def Status(model: AllianceModel) -> None:
        update_counter.get()
        solara.Markdown(status_markdown(model))

    @solara.component
    def ActorGraph(model: AllianceModel) -> None:
        update_counter.get()
        figure(graph_figure(model))

    @solara.component
    def DyadAlignment(model: AllianceModel) -> None:
        update_counter.get()
        figure(dyads_figure(model))

    @solara.component
    def Actions(model: AllianceModel) -> None:
        update_counter.get()
        figure(actions_figure(model))

    return [
        (Status, 0),
        (ActorGraph, 0),
        (DyadAlignment, 0),
        (Actions, 0),
        make_plot_component(list(series)),
    ]


def make_page(scenario_path: str | Path = DEFAULT_SCENARIO):
    """Make the Solara page component: SolaraViz over the model built from the sliders."""
    import solara
    from mesa.visualization import SolaraViz

    @solara.component
    def Page() -> None:
        params = solara.use_memo(lambda: model_params(scenario_path), [])
        model = solara.use_memo(lambda: ExploreModel(**initial_kwargs(params)), [])
        parts = solara.use_memo(lambda: components(series_outcomes(model)), [])
        SolaraViz(
            model,
            components=parts,
            model_params=params,
            name=f"sim explore: {model.scenario.title}",
        )

    return Page
