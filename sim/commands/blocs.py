"""`sim blocs`: bloc structure by the landscape theory of aggregation (Axelrod and Bennett 1993).

Reads a table of actor sizes and pairwise propensities (CSV or TOML, see `sim.landscape`
and docs/landscape.md), searches every two-bloc configuration and prints the optimum and the
other stable configurations with their energies and basins of attraction.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from sim.commands.common import add_force_argument, check_out_file
from sim.errors import SimInputError
from sim.model import landscape
from sim.scenario import read_toml

Table = tuple[tuple[str, ...], np.ndarray, np.ndarray]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``blocs`` subcommand."""
    parser = subparsers.add_parser(
        "blocs",
        help="bloc structure by landscape theory (Axelrod and Bennett 1993)",
        description="Find the two-bloc configuration of least frustration and the other "
        "stable configurations, with their basins of attraction, by exhaustive search.",
    )
    parser.add_argument(
        "input",
        metavar="INPUT",
        help="a scenario file, or a CSV or TOML table of sizes and propensities",
    )
    parser.add_argument("--figure", metavar="PATH", help="write the energy landscape figure here")
    add_force_argument(parser, "an existing --figure file")
    parser.add_argument(
        "--normalise", action="store_true", help="rescale sizes to sum to 1 (blocs do not change)"
    )
    parser.add_argument(
        "--month",
        type=int,
        metavar="M",
        help="scenario input: analyse the alignment at the end of month M of one seeded run "
        "(default: the initial alignment)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of that run (default 0)")
    parser.set_defaults(func=run)


def _is_scenario(path: Path) -> bool:
    """Tell whether ``path`` is a scenario: TOML with a ``[scenario]`` table.

    Landscape tables have no such table, and a variant scenario (``extends``) may list nothing
    but ``[scenario]`` and what it changes, so the ``[scenario]`` table alone decides.
    """
    if path.suffix.lower() != ".toml" or not path.is_file():
        return False
    try:
        doc = read_toml(path)
    except SimInputError:
        return False  # read_table reports the problem
    return isinstance(doc.get("scenario"), dict)


def _from_scenario(path: Path, month: int | None, seed: int = 0) -> Table:
    """Sizes (capabilities) and propensities (alignment) of a scenario's actors.

    Without ``month`` the initial alignment is used; with it, one seeded replicate of the
    scenario is run and the alignment at the end of that month is used.
    """
    from sim import api, scenario
    from sim.model import outcomes
    from sim.model.engine import pair_index

    sc = scenario.load(path)
    names = sc.actor_ids
    sizes = np.array([a.capability for a in sc.actors])
    n = len(names)
    propensity = np.eye(n)
    if not month:
        for (a, b), v in sc.alignment.items():
            i, j = names.index(a), names.index(b)
            propensity[i, j] = propensity[j, i] = v
        return names, sizes, propensity
    if month < 0 or month > sc.months:
        raise SimInputError(
            "month outside the scenario's horizon",
            field="--month",
            found=month,
            allowed=f"an integer in [0, {sc.months}]",
        )
    res = api.simulate(sc, replicates=1, seed=seed, months=month)
    row = res.series[res.series.month == month].iloc[0]
    for i, j in pair_index(n):
        propensity[i, j] = propensity[j, i] = row[outcomes.pair_column(names[i], names[j])]
    return names, sizes, propensity


def _members(result: landscape.LandscapeResult, labels: np.ndarray) -> str:
    a, b = result.blocs(labels)
    return f"{', '.join(a)} | {', '.join(b) or '(empty)'}"


def format_result(result: landscape.LandscapeResult, normalised: bool = False) -> str:
    """Render the optimum and the other stable configurations as a readable text table."""
    n_configs, n_stable = len(result.landscape), len(result.minima)
    best, total = result.optimum, int(result.basins.sum())
    bloc_a, bloc_b = result.blocs(result.optimum_labels)
    lines = [
        f"Landscape of {len(result.names)} actors: {n_configs} configurations, "
        f"{n_stable} stable (sizes {'normalised to sum 1' if normalised else 'as given'}).",
        "",
        f"Optimum: energy {result.optimum_energy:.6g}, "
        f"basin {result.basins[best]} of {total} ({result.basins[best] / total:.0%})",
        f"  bloc A: {', '.join(bloc_a)}",
        f"  bloc B: {', '.join(bloc_b) or '(empty)'}",
        "",
    ]
    others = [k for k in range(n_stable) if k != best]
    if not others:
        lines.append("No other stable configuration: every configuration descends to the optimum.")
        return "\n".join(lines)
    lines += ["Other stable configurations (local minima), by energy:", ""]
    lines.append(f"  {'energy':>12}  {'basin':>7}  {'share':>6}  bloc A | bloc B")
    for k in others:
        share = result.basins[k] / total
        lines.append(
            f"  {result.energies[k]:>12.6g}  {result.basins[k]:>7}  {share:>6.1%}  "
            f"{_members(result, result.minima[k])}"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Analyse the table and print (and optionally plot) its landscape."""
    path = Path(args.input)
    if args.figure:
        check_out_file(Path(args.figure), args.force, "--figure")
    if _is_scenario(path):
        names, sizes, propensity = _from_scenario(path, args.month, args.seed)
    elif args.month is not None:
        raise SimInputError(
            "--month applies only to scenario input", field="--month", found=args.month
        )
    else:
        names, sizes, propensity = landscape.read_table(path)
    if args.normalise and not np.sum(sizes) > 0:
        raise SimInputError("cannot normalise sizes that sum to 0", file=str(path), field="size")
    result = landscape.analyse(sizes, propensity, names, normalise=args.normalise)
    print(format_result(result, normalised=args.normalise))
    if args.figure:
        ax = landscape.plot_landscape(result)
        try:
            ax.figure.savefig(args.figure)
        except (OSError, ValueError) as exc:
            raise SimInputError(
                f"cannot write the figure: {exc}", field="--figure", found=args.figure
            ) from None
        print(f"\nFigure written to {args.figure}")
    return 0
