"""The compiled kernel's memory layout: parameters, state and scratch as arrays with the
replicate as their last axis, in blocks of replicates (plain Python; `sim.model.kernel`
compiles only the rules).

Every array the kernel reads or updates has the replicate as its last axis, cut into blocks of
`BLOCK` (fewer when a call has fewer replicates): parameters as `Arrays` (`pack`, shared
parameters repeated for each replicate), the state as `Buffers`, the month's intermediate
quantities as `Work`. Which parameter arrays the kernel reads, and their dtypes, come from the
parameter table of `sim.model.params` (fields declared with ``kernel=True``).

Every array is C-contiguous with a fixed dtype whatever the number of replicates, so the
kernel's one compiled signature fits every call (a 1-replicate call with a transposed table
would otherwise compile a second one).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from sim.model.params import PARAMETERS, Params
from sim.model.rules import State

# Parameter arrays the kernel reads: (field of Params, dtype), from the parameter table.
FIELDS = tuple((f.name, f.metadata["dtype"].type) for f in PARAMETERS if f.metadata["kernel"])
# Shared structure (no replicate axis); the other fields are laid out per replicate.
STRUCTURE = tuple(f.name for f in PARAMETERS if f.metadata["kernel"] and not f.metadata["per_row"])
# Derived tables in the kernel's layout (see `pack`), and Derived arrays used as they are.
LAYOUT = ("issue_by_stake", "commit_by_relation", "num_by_stake", "den_by_stake")
DERIVED = ("dependence", "extremity", "cap_share", "weights")
BLOCK = 64  # replicates that advance together (fewer when a call has fewer)
# Which terms of the two largest sums are nonzero for some replicate: the others add zeros
# (exactly nothing to a running sum), so the kernel skips them.
USED = ("issue_used", "commit_used")
Arrays = namedtuple(
    "Arrays", [f for f, _ in FIELDS] + ["pair_i", "pair_j", *USED, *LAYOUT, *DERIVED]
)
Arrays.__doc__ = "A parameter set as the kernel reads it: replicate axis last, fixed dtypes."

STATE = (
    ("alignment", np.float64),
    ("base", np.float64),
    ("mood", np.float64),
    ("favourable", np.float64),
    ("unfavourable", np.float64),
    ("stakes", np.float64),
    ("stance", np.float64),
    ("actions", np.int64),
    ("anchor", np.float64),
    ("offer_left", np.int64),
    ("in_deal", np.bool_),
    ("bound_left", np.int64),
)
Buffers = namedtuple("Buffers", [f for f, _ in STATE])
Buffers.__doc__ = "The state's arrays (replicate axis last), which the kernel updates in place."

# One array per intermediate quantity of a month (block axis last).
WORK = {
    "u": "the month's uniforms (events, then one per actor)",
    "fired": "events that fired",
    "tau": "trust levels of every pair",
    "relation": "per partner: the stances' pulls, then the commitments' trust",
    "const": "per actor: the constant parts of the squares of the relational terms",
    "issue": "per actor and action: the issues term",
    "rel": "per actor and action: the relational sum",
    "eu": "per actor and action: expected utility",
    "weights": "per actor and action: logit weight",
    "top": "an actor's largest utility over temperature",
    "weight_sum": "an actor's total logit weight",
    "threshold": "an actor's uniform times its total weight",
    "cdf": "an actor's cumulative weight",
    "cost": "the cost of change of one action",
    "allowed": "whether one action may be chosen",
    "opened": "whether a deal's offer was put on the table",
    "shock": "the fired events' shock to one stake or pair",
    "balance": "the structural balance of one pair",
    "pushed": "the chosen actions' push on one stake",
    "chosen": "each actor's chosen action",
    "stance": "each actor's stance toward each other",
    "num": "per pair: the numerator of interest overlap",
    "den": "per pair: the denominator of interest overlap",
    "overlap": "per pair: interest overlap",
    "target": "per pair: where structural alignment is heading",
    "taken": "deals taken this month",
}
Work = namedtuple("Work", list(WORK))
Work.__doc__ = "Scratch arrays for one block of replicates (block axis last), one per quantity."


def work(p: Arrays) -> Work:
    """Scratch arrays sized for a parameter set (the compiled loops allocate nothing); their
    last axis, the block's width, tells the loops how many replicates advance together.
    """
    n, amax = p.valid.shape
    e, d, pairs, b = p.ev_month.shape[1], p.deal_actor.shape[0], p.pair_i.shape[0], p.rate.shape[1]
    cells, per_block = n * amax, ("top", "weight_sum", "threshold", "cdf", "cost")
    per_block += ("shock", "balance", "pushed")
    shapes = {
        "u": (e + n, b),
        "fired": (e, b),
        "tau": (n, n, b),
        "relation": (2 * n, n, b),
        "const": (n, b),
        "chosen": (n, b),
        "stance": (n, n, b),
        "taken": (d, b),
        **{f: (cells, b) for f in ("issue", "rel", "eu", "weights")},
        **{f: (pairs, b) for f in ("num", "den", "overlap", "target")},
        **{f: (b,) for f in (*per_block, "allowed", "opened")},
    }
    dtypes = {"fired": np.bool_, "allowed": np.bool_, "opened": np.bool_, "taken": np.bool_}
    dtypes["chosen"] = np.int64
    return Work(*(np.zeros(shapes[f], dtypes.get(f, np.float64)) for f in WORK))


def width(replicates: int) -> int:
    """Replicates per block for a call with ``replicates`` (`BLOCK`, or fewer)."""
    return min(BLOCK, replicates)


def blocks(replicates: int) -> int:
    """Number of blocks that hold ``replicates``."""
    return -(-replicates // width(replicates))


def blocked(x: np.ndarray, replicates: int, dtype) -> np.ndarray:
    """(R', ...) with R' in (1, R) -> (blocks, ..., width), C-contiguous; a last block that
    is not full repeats the last replicate.
    """
    x = np.asarray(x, dtype=dtype)
    nb, wb, rest = blocks(replicates), width(replicates), x.shape[1:]
    if replicates == 1:  # one replicate (the Mesa model): a reshape, copied C-contiguous
        return np.array(x.reshape(1, *rest, 1), dtype=dtype, order="C")
    if x.shape[0] == 1:  # shared: one copy, straight into the layout
        return np.broadcast_to(x[0][None, ..., None], (nb, *rest, wb)).copy()
    pad = nb * wb - replicates
    if pad:
        x = np.concatenate([x, np.broadcast_to(x[-1:], (pad, *rest))])
    # np.array copies always: ascontiguousarray may return a view (when the other axes have
    # length 1), and the kernel updates buffers in place.
    return np.array(np.moveaxis(x.reshape(nb, wb, *rest), 1, -1), order="C")


def unblocked(x: np.ndarray, replicates: int) -> np.ndarray:
    """The inverse of `blocked`: (blocks, ..., width) -> (R, ...), a copy."""
    if x.shape[-1] == 1:
        return x.reshape(x.shape[:-1]).copy()
    x = np.moveaxis(x, -1, 1)
    return np.array(x.reshape(-1, *x.shape[2:])[:replicates], order="C")  # a copy, always


def pack(params: Params, replicates: int) -> Arrays:
    """The kernel's view of a parameter set for ``replicates`` rows (cached on the `Params`
    object for the last size asked).

    Each row array becomes (..., R), shared ones repeated for every replicate. The tables of
    the month's sums (issues over stakes, relations over partners, interest overlap over
    stakes) put the summed axis first; the order of the terms within each sum is unchanged.
    """
    cached = params.__dict__.get("_kernel_arrays")
    if cached is not None and cached[0] == replicates:
        return cached[1]
    d = params.derived
    n, amax = params.valid.shape
    iu, ju = np.triu_indices(n, 1)
    pair = iu * n + ju

    def by_term(table: np.ndarray) -> np.ndarray:  # (P, N, A, X) -> (P, X, N * A)
        return table.reshape(table.shape[0], n * amax, -1).transpose(0, 2, 1)

    layout = {
        "issue_by_stake": by_term(d.issue_weight),
        "commit_by_relation": by_term(d.stance_commit),
        "num_by_stake": d.overlap_num[:, pair].transpose(0, 2, 1),
        "den_by_stake": d.overlap_den[:, pair].transpose(0, 2, 1),
    }
    arrays = Arrays(
        *(
            np.ascontiguousarray(getattr(params, f), dtype=t)
            if f in STRUCTURE
            else blocked(getattr(params, f), replicates, t)
            for f, t in FIELDS
        ),
        iu.astype(np.int64),
        ju.astype(np.int64),
        np.ascontiguousarray((layout["issue_by_stake"] != 0).any(axis=0)),
        np.ascontiguousarray((layout["commit_by_relation"] != 0).any(axis=0)),
        *(blocked(layout[f], replicates, np.float64) for f in LAYOUT),
        *(blocked(getattr(d, f), replicates, np.float64) for f in DERIVED),
    )
    # Params is frozen; like `functools.cached_property`, write the instance dict.
    params.__dict__["_kernel_arrays"] = (replicates, arrays)
    return arrays


def buffers(state: State) -> Buffers:
    """Private copies of a state's arrays in the kernel's blocked layout, to update in place."""
    r = len(state.actions)
    return Buffers(*(blocked(getattr(state, f), r, t) for f, t in STATE))


def empty_buffers(params: Params, replicates: int) -> Buffers:
    """Buffers of the right shapes for ``replicates``, all zero (the kernel fills month 0)."""
    n, k, d = len(params.actors), len(params.issues), len(params.deals)
    nb, wb = blocks(replicates), width(replicates)
    shapes = {"stakes": (nb, k, wb), "actions": (nb, n, wb)}
    shapes |= {f: (nb, d, wb) for f in ("offer_left", "in_deal", "bound_left")}
    return Buffers(*(np.zeros(shapes.get(f, (nb, n, n, wb)), dtype=t) for f, t in STATE))


def state_of(buf: Buffers, month: int, replicates: int) -> State:
    """The `State` held in the kernel's buffers (a copy)."""
    fields = {f: unblocked(x, replicates) for f, x in buf._asdict().items()}
    return State(month=month, **fields)


def scratch(params: Params, replicates: int) -> Work:
    """Scratch for calls on ``params`` (kept with its packed arrays: calls overwrite it)."""
    p = pack(params, replicates)
    cached = params.__dict__.get("_kernel_work")
    if cached is None or cached[0] is not p:
        cached = (p, work(p))
        params.__dict__["_kernel_work"] = cached
    return cached[1]
