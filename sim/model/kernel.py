"""The compiled kernel: the model's monthly rules as numba functions over blocks of replicates.

This is what runs. The array engine (`sim.model.engine.simulate`) calls `run`, a compiled loop
over blocks of replicates and months; the Mesa model (`sim.model.mesa_model`) calls
`start_buffers`, `prepare_buffers`, `choose` and `transition_buffers` on one replicate, and
these call the very same compiled functions (on a block of one), so the two cannot disagree.
The functions carry the names of their numpy counterparts in `sim.model.rules`, which states
the equations as array algebra, documents them and serves as the test oracle
(tests/test_kernel.py compares the two on random states and parameters); a change to a rule
goes into both.

Numbers: the kernel sums in a fixed order where numpy and BLAS choose their own, so results
agree with `sim.model.rules` to about 1e-15, not bit for bit; a logit draw that lands within
that distance of an edge of the cumulative probabilities may pick the neighbouring action
(`python benchmarks/bench_kernel.py --agreement` counts how often). Within the kernel, results
are exact: the same inputs give the same bytes whatever the batch.

Layout: every array the kernel reads or updates has the replicate as its last axis
(parameters as `Arrays`, per replicate even when shared, see `pack`; the state as `Buffers`),
and the replicates of a block of `BLOCK` advance through each step of a month together, so each
step is a short loop over neighbouring memory that the compiler turns into vector
instructions, and the processor overlaps the replicates' chains of dependent arithmetic.

Compilation is cached on disk (``cache=True``, next to this file or in numba's user cache
directory), so only the first process after an install or a change compiles.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from sim.model.params import Params
from sim.model.rules import State

# SplitMix64 constants of `sim.model.rng` (repeated here: numba's cache would not notice a
# change to another module, so everything the kernel compiles lives in this file).
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV_2_53 = 1.0 / 9007199254740992.0

# Parameter arrays the kernel reads: (field of Params or Derived, dtype).
FIELDS = (
    ("valid", np.bool_),
    ("deal_actor", np.int64),
    ("deal_action", np.int64),
    ("deal_victim", np.int64),
    ("ev_offer", np.bool_),
    ("act_offer", np.bool_),
    ("policy0", np.int64),
    ("temp", np.float64),
    ("memory", np.float64),
    ("w_alignment", np.float64),
    ("w_reciprocity", np.float64),
    ("w_trust", np.float64),
    ("stance", np.float64),
    ("push", np.float64),
    ("bias", np.float64),
    ("available", np.float64),
    ("inertia", np.float64),
    ("stake_base", np.float64),
    ("persistence", np.float64),
    ("align0", np.float64),
    ("fav0", np.float64),
    ("unfav0", np.float64),
    ("rate", np.float64),
    ("evidence", np.float64),
    ("atmosphere", np.float64),
    ("deal_open", np.int64),
    ("deal_binds", np.int64),
    ("deal_exit", np.float64),
    ("deal_shock", np.float64),
    ("ev_month", np.int64),
    ("ev_hazard", np.float64),
    ("ev_start", np.int64),
    ("ev_end", np.int64),
    ("ev_align", np.float64),
    ("ev_stakes", np.float64),
)
STRUCTURE = (
    "valid",
    "deal_actor",
    "deal_action",
    "deal_victim",
    "ev_offer",
    "act_offer",
    "policy0",
)
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

Work = namedtuple(
    "Work",
    "u fired tau relation const eu rel weights top total cdf cost ok chosen stance num den "
    "target taken",
)
Work.__doc__ = "Scratch arrays for one block of replicates (block axis last)."


def work(p: Arrays) -> Work:
    """Scratch arrays sized for a parameter set (the compiled loops allocate nothing); their
    last axis, the block's width, tells the loops how many replicates advance together.
    """
    n, amax = p.valid.shape
    e, d, pairs, b = p.ev_month.shape[1], p.deal_actor.shape[0], p.pair_i.shape[0], p.rate.shape[1]
    return Work(
        u=np.zeros((e + n, b)),
        fired=np.zeros((e, b), np.bool_),
        tau=np.zeros((n, n, b)),
        relation=np.zeros((2 * n, n, b)),
        const=np.zeros((n, b)),
        eu=np.zeros((n * amax, b)),
        rel=np.zeros((n * amax, b)),
        weights=np.zeros((n * amax, b)),
        top=np.zeros(b),
        total=np.zeros(b),
        cdf=np.zeros(b),
        cost=np.zeros(b),
        ok=np.zeros(b, np.bool_),
        chosen=np.zeros((n, b), np.int64),
        stance=np.zeros((n, n, b)),
        num=np.zeros((pairs, b)),
        den=np.zeros((pairs, b)),
        target=np.zeros((pairs, b)),
        taken=np.zeros((d, b), np.bool_),
    )


def width(replicates: int) -> int:
    """Replicates per block for a call with ``replicates`` (`BLOCK`, or fewer)."""
    return min(BLOCK, replicates)


def blocks(replicates: int) -> int:
    """Number of blocks that hold ``replicates``."""
    return -(-replicates // width(replicates))


def _blocked(x: np.ndarray, replicates: int, dtype) -> np.ndarray:
    """(R', ...) with R' in (1, R) -> (blocks, ..., width), contiguous; a last block that is
    not full repeats the last replicate.
    """
    x = np.asarray(x, dtype=dtype)
    nb, wb, rest = blocks(replicates), width(replicates), x.shape[1:]
    if replicates == 1:  # one replicate (the Mesa model): a reshape
        return np.array(x.reshape(1, *rest, 1), dtype=dtype)
    if x.shape[0] == 1:  # shared: one copy, straight into the layout
        return np.broadcast_to(x[0][None, ..., None], (nb, *rest, wb)).copy()
    pad = nb * wb - replicates
    if pad:
        x = np.concatenate([x, np.broadcast_to(x[-1:], (pad, *rest))])
    return np.ascontiguousarray(np.moveaxis(x.reshape(nb, wb, *rest), 1, -1))


def unblocked(x: np.ndarray, replicates: int) -> np.ndarray:
    """The inverse of `_blocked`: (blocks, ..., width) -> (R, ...)."""
    if x.shape[-1] == 1:
        return x.reshape(x.shape[:-1]).copy()
    x = np.moveaxis(x, -1, 1)
    return np.ascontiguousarray(x.reshape(-1, *x.shape[2:])[:replicates])


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
            else _blocked(getattr(params, f), replicates, t)
            for f, t in FIELDS
        ),
        iu.astype(np.int64),
        ju.astype(np.int64),
        np.ascontiguousarray((layout["issue_by_stake"] != 0).any(axis=0)),
        np.ascontiguousarray((layout["commit_by_relation"] != 0).any(axis=0)),
        *(_blocked(layout[f], replicates, np.float64) for f in LAYOUT),
        *(_blocked(getattr(d, f), replicates, np.float64) for f in DERIVED),
    )
    # Params is frozen; like `functools.cached_property`, write the instance dict.
    params.__dict__["_kernel_arrays"] = (replicates, arrays)
    return arrays


def buffers(state: State) -> Buffers:
    """Private copies of a state's arrays in the kernel's blocked layout, to update in place."""
    r = len(state.actions)
    return Buffers(*(_blocked(getattr(state, f), r, t) for f, t in STATE))


def _state(buf: Buffers, month: int, replicates: int) -> State:
    fields = {f: unblocked(x, replicates) for f, x in buf._asdict().items()}
    return State(month=month, **fields)


# The rules are inlined into the loops that call them (numba IR inlining). The loops run
# without numba's reference counting (``_nrt=False``, a long-standing numba option): they
# allocate nothing (scratch comes from `work`), and with it every read of an array from the
# parameter tuple inside a branch paid an atomic increment and decrement, which made the
# kernel 4x slower. ``error_model="numpy"``: a division by zero gives inf or nan, as in numpy.
_rule = njit(cache=True, inline="always", error_model="numpy")
_loop = njit(cache=True, _nrt=False, error_model="numpy")

# --------------------------------------------------------------------------------------------
# The rules (names as in `sim.model.rules`), for the replicates b0 .. b0 + nb - 1 of a block.
# ``s`` is the state, ``p`` the parameters (both indexed by replicate ``b``), ``w`` the block's
# scratch (indexed by ``k = b - b0``).


@_rule
def uniforms(keys, month, slots, u, blk):
    """The ``slots`` uniforms of each run's month (`sim.model.rng.uniforms`, bit for bit)."""
    base = np.uint64(month * slots + 1)
    for q in range(slots):
        step = (base + np.uint64(q)) * _GOLDEN
        for k in range(u.shape[1]):
            z = keys[blk * u.shape[1] + k] + step
            z = (z ^ (z >> _S30)) * _M1
            z = (z ^ (z >> _S27)) * _M2
            z = z ^ (z >> _S31)
            u[q, k] = float(z >> _S11) * _INV_2_53


@_rule
def trust_level(favourable, unfavourable):
    """Expected reliability under the beta reputation model."""
    return (favourable + 1.0) / (favourable + unfavourable + 2.0)


@_rule
def trust_levels(s, w, blk):
    """``trust_level`` of every pair, into ``w.tau``."""
    n = w.tau.shape[0]
    for i in range(n):
        for j in range(n):
            for k in range(w.top.shape[0]):
                w.tau[i, j, k] = trust_level(
                    s.favourable[blk, i, j, k], s.unfavourable[blk, i, j, k]
                )


@_rule
def fired_events(p, month, w, blk):
    """Which events occur in ``month``: scheduled ones on their month, random ones with their
    hazard inside their window (uniforms ``w.u``), into ``w.fired``.
    """
    for e in range(w.fired.shape[0]):
        for k in range(w.top.shape[0]):
            m = p.ev_month[blk, e, k]
            in_window = (p.ev_start[blk, e, k] <= month) & (month <= p.ev_end[blk, e, k])
            chance = (m < 0) & in_window & (w.u[e, k] < p.ev_hazard[blk, e, k])
            w.fired[e, k] = (m == month) | chance


@_rule
def _clip(x):
    return min(max(x, -1.0), 1.0)


@_rule
def apply_events(s, p, w, blk):
    """Shock the atmosphere (mood) and the stakes by the events that fired; put offers on the
    table. As in the numpy rules, the shocks are sums over all events of fired x shock, so a
    replicate without an event adds zeros.
    """
    ne, nb = w.fired.shape[0], w.total.shape[0]
    some = False
    for e in range(ne):
        for k in range(nb):
            some = some | w.fired[e, k]
    if not some:
        return
    n, nk = s.alignment.shape[1], s.stakes.shape[1]
    for c in range(nk):
        for k in range(nb):
            w.total[k] = 0.0
        for e in range(ne):
            for k in range(nb):
                w.total[k] += w.fired[e, k] * p.ev_stakes[blk, e, c, k]
        for k in range(nb):
            s.stakes[blk, c, k] = max(s.stakes[blk, c, k] + w.total[k], 0.0)
    for i in range(n):
        for j in range(n):
            for k in range(nb):
                w.total[k] = 0.0
            for e in range(ne):
                for k in range(nb):
                    w.total[k] += w.fired[e, k] * p.ev_align[blk, e, i, j, k]
            for k in range(nb):
                mood = s.mood[blk, i, j, k] + w.total[k]
                s.mood[blk, i, j, k] = mood
                a = 1.0 if i == j else _clip(s.base[blk, i, j, k] + mood)
                s.alignment[blk, i, j, k] = a
    for x in range(s.offer_left.shape[1]):
        for k in range(nb):
            w.ok[k] = False
        for e in range(ne):
            if p.ev_offer[e, x]:
                for k in range(nb):
                    w.ok[k] = w.ok[k] | w.fired[e, k]
        for k in range(nb):
            left = s.offer_left[blk, x, k]
            s.offer_left[blk, x, k] = max(left, p.deal_open[blk, x, k]) if w.ok[k] else left


@_rule
def allowed(s, p, i, a, blk, w):
    """Whether actor ``i`` may choose action ``a``, into ``w.ok`` (block): it exists, it is
    available, and a deal's action only while its offer is on the table or the deal is kept.
    """
    nb = w.ok.shape[0]
    for k in range(nb):
        w.ok[k] = p.valid[i, a] & (p.available[blk, i, a, k] > 0)
    for x in range(p.deal_actor.shape[0]):
        if p.deal_actor[x] == i and p.deal_action[x] == a:
            for k in range(nb):
                w.ok[k] = w.ok[k] & ((s.offer_left[blk, x, k] > 0) | s.in_deal[blk, x, k])


@_rule
def change_cost(s, p, i, a, blk, w):
    """Cost of leaving the held policy (inertia) and of leaving a binding deal (exit cost),
    into ``w.cost`` (block).
    """
    nb = w.cost.shape[0]
    for k in range(nb):
        held = s.actions[blk, i, k]
        w.cost[k] = p.inertia[blk, i, k] * ((held >= 0) & (a != held))
    for x in range(p.deal_actor.shape[0]):
        if p.deal_actor[x] == i:
            leave = a != p.deal_action[x]
            for k in range(nb):
                bound = s.in_deal[blk, x, k] & (s.bound_left[blk, x, k] > 0)
                w.cost[k] = w.cost[k] + p.deal_exit[blk, x, k] * (bound & leave)


@_rule
def expected_utility(s, p, w, blk):
    """Each actor's expected utility of each action (impossible actions: -inf) into ``w.eu``
    (actor x action, block), given the state's trust levels ``w.tau``; the terms and their
    order as in `sim.model.rules.expected_utility`.
    """
    n, amax = p.valid.shape
    nk, cells = s.stakes.shape[1], n * amax
    eu, rel, relation, const = w.eu, w.rel, w.relation, w.const
    for q in range(cells):
        for k in range(w.top.shape[0]):
            eu[q, k] = 0.0
            rel[q, k] = 0.0
    for c in range(nk):  # issues: sum over stakes
        for q in range(cells):
            if not p.issue_used[c, q]:
                continue
            for k in range(w.top.shape[0]):
                eu[q, k] += p.issue_by_stake[blk, c, q, k] * s.stakes[blk, c, k]
    for i in range(n):
        # The relation vector (stances' pulls, then commitments' trust) and the squares'
        # constant parts are the same for every action of actor i.
        for k in range(w.top.shape[0]):
            const[i, k] = 0.0
        for j in range(n):
            for k in range(w.top.shape[0]):
                w_a, w_r = p.w_alignment[blk, i, k], p.w_reciprocity[blk, i, k]
                a_ij, s_ji = s.alignment[blk, i, j, k], s.stance[blk, j, i, k]
                relation[j, i, k] = w_a * a_ij + w_r * s_ji
                relation[n + j, i, k] = p.w_trust[blk, i, k] * (2.0 * w.tau[i, j, k] - 1.0)
                const[i, k] += w_a * (a_ij * a_ij) + w_r * (s_ji * s_ji)
        for k in range(w.top.shape[0]):
            const[i, k] = const[i, k] - p.w_alignment[blk, i, k]
    for x in range(2 * n):  # stances and commitments: sum over partners
        for i in range(n):
            for a in range(amax):
                q = i * amax + a
                if not p.commit_used[x, q]:
                    continue
                for k in range(w.top.shape[0]):
                    rel[q, k] += p.commit_by_relation[blk, x, q, k] * relation[x, i, k]
    for i in range(n):
        for a in range(amax):
            q = i * amax + a
            change_cost(s, p, i, a, blk, w)
            allowed(s, p, i, a, blk, w)
            for k in range(w.top.shape[0]):
                value = (
                    eu[q, k]
                    + rel[q, k]
                    - p.extremity[blk, i, a, k]
                    - p.dependence[blk, i, a, k]
                    - const[i, k]
                    + p.bias[blk, i, a, k]
                    - w.cost[k]
                )
                eu[q, k] = value if w.ok[k] else -np.inf


@_rule
def choice_weights(p, w, i, blk):
    """Unnormalised logit weights exp((EU(a) - max EU) / T) of actor ``i``; impossible: 0."""
    amax = p.valid.shape[1]
    lo = i * amax
    for a in range(amax):
        for k in range(w.top.shape[0]):
            w.weights[lo + a, k] = w.eu[lo + a, k] / p.temp[blk, i, k]
    for k in range(w.top.shape[0]):
        w.top[k] = w.weights[lo, k]
    for a in range(1, amax):
        for k in range(w.top.shape[0]):
            w.top[k] = max(w.top[k], w.weights[lo + a, k])
    for a in range(amax):
        for k in range(w.top.shape[0]):
            z = w.weights[lo + a, k]
            # exp(-inf) is 0: skip the call for impossible actions.
            w.weights[lo + a, k] = np.exp(z - w.top[k]) if z > -np.inf else 0.0


@_rule
def choose(weights, u):
    """One action from one actor's weights by inverse CDF: the number of cumulative weights
    at or below u x total (what each Mesa agent calls).
    """
    amax = weights.shape[0]
    total = 0.0
    for a in range(amax):
        total += weights[a]
    threshold = u * total
    cdf, picked = 0.0, 0
    for a in range(amax - 1):
        cdf += weights[a]
        picked += cdf <= threshold
    return picked


@_rule
def choose_block(p, w, blk):
    """`choose` for every actor of the block at once (same arithmetic), into ``w.chosen``."""
    n, amax = p.valid.shape
    e = w.fired.shape[0]
    for i in range(n):
        lo = i * amax
        for k in range(w.top.shape[0]):
            w.total[k] = 0.0
            w.cdf[k] = 0.0
            w.chosen[i, k] = 0
        for a in range(amax):
            for k in range(w.top.shape[0]):
                w.total[k] += w.weights[lo + a, k]
        for k in range(w.top.shape[0]):
            w.top[k] = w.u[e + i, k] * w.total[k]  # the threshold
        for a in range(amax - 1):
            for k in range(w.top.shape[0]):
                w.cdf[k] += w.weights[lo + a, k]
                w.chosen[i, k] += w.cdf[k] <= w.top[k]


@_rule
def stances(p, w, blk):
    """Stance of each actor toward each other implied by ``w.chosen``, into ``w.stance``."""
    n = w.stance.shape[0]
    for i in range(n):
        for j in range(n):
            for k in range(w.top.shape[0]):
                w.stance[i, j, k] = p.stance[blk, i, w.chosen[i, k], j, k]


@_rule
def update_deals(s, p, w, blk):
    """Deals after this month's choices (taking, keeping, leaving; offers run down or are
    made), in place; which deals were taken goes to ``w.taken``.
    """
    n = p.valid.shape[0]
    for x in range(p.deal_actor.shape[0]):
        for k in range(w.top.shape[0]):
            keeps = w.chosen[p.deal_actor[x], k] == p.deal_action[x]
            took = keeps & ~s.in_deal[blk, x, k]
            bound = p.deal_binds[blk, x, k] if took else max(s.bound_left[blk, x, k] - 1, 0)
            if not keeps:
                bound = 0
            left = 0 if took else max(s.offer_left[blk, x, k] - 1, 0)
            opened = False
            for i in range(n):
                opened = opened | p.act_offer[i, w.chosen[i, k], x]
            if opened:
                left = max(left, p.deal_open[blk, x, k])
            s.offer_left[blk, x, k] = left
            s.in_deal[blk, x, k] = keeps
            s.bound_left[blk, x, k] = bound
            w.taken[x, k] = took


@_rule
def update_trust(s, p, w, blk):
    """Beta-reputation update with forgetting from this month's stances received, plus the
    victim's unfavourable evidence about a deal's taker in the month it is taken.
    """
    n = w.stance.shape[0]
    for i in range(n):
        for j in range(n):
            for k in range(w.top.shape[0]):
                m = p.memory[blk, i, k]
                received = w.stance[j, i, k] * p.evidence[blk, k]
                s.favourable[blk, i, j, k] = m * s.favourable[blk, i, j, k] + max(received, 0.0)
                s.unfavourable[blk, i, j, k] = m * s.unfavourable[blk, i, j, k] + max(
                    -received, 0.0
                )
    for x in range(p.deal_actor.shape[0]):
        v, a = p.deal_victim[x], p.deal_actor[x]
        for k in range(w.top.shape[0]):
            s.unfavourable[blk, v, a, k] += p.deal_shock[blk, x, k] * w.taken[x, k]


@_rule
def interest_overlap(s, p, w, blk):
    """Salience- and stakes-weighted agreement of positions of each pair, into ``w.num``:
    sum_k num_k z_k / sum_k den_k z_k (0 where the weights vanish).
    """
    pairs = w.num.shape[0]
    for q in range(pairs):
        for k in range(w.top.shape[0]):
            w.num[q, k] = 0.0
            w.den[q, k] = 0.0
    for c in range(s.stakes.shape[1]):
        for q in range(pairs):
            for k in range(w.top.shape[0]):
                z = s.stakes[blk, c, k]
                w.num[q, k] += p.num_by_stake[blk, c, q, k] * z
                w.den[q, k] += p.den_by_stake[blk, c, q, k] * z
    for q in range(pairs):
        for k in range(w.top.shape[0]):
            den = w.den[q, k]
            w.num[q, k] = w.num[q, k] / den if den > 0 else 0.0


@_rule
def structural_balance(s, i, j, blk, w):
    """Mean over third parties m of A_im A_mj ("the enemy of my enemy") for the pair (i, j),
    into ``w.total`` (block).
    """
    n, nb = s.alignment.shape[1], w.total.shape[0]
    for k in range(nb):
        w.total[k] = 0.0
    if n < 3:
        return
    for m in range(n):
        for k in range(nb):
            w.total[k] += s.alignment[blk, i, m, k] * s.alignment[blk, m, j, k]
    for k in range(nb):
        w.total[k] = (w.total[k] - 2.0 * s.alignment[blk, i, j, k]) / (n - 2)


@_rule
def drift_target(s, p, stance, w, blk):
    """Where structural alignment is heading, per pair into ``w.target``: the weighted pulls
    of interest overlap, structural balance, the acts ``stance`` and mutual trust
    ``w.tau``, plus the constant anchor.

    Alignment, its structure, mood and anchor are symmetric (scenarios, `Params.locate` and
    the rules make only symmetric ones), and so is the target: the kernel keeps one value per
    pair i < j (`sim.model.engine.pair_index` order) and the diagonal at 1.
    """
    interest_overlap(s, p, w, blk)
    for q in range(w.target.shape[0]):
        i, j = p.pair_i[q], p.pair_j[q]
        structural_balance(s, i, j, blk, w)
        for k in range(w.top.shape[0]):
            share_ij, share_ji = p.cap_share[blk, i, j, k], p.cap_share[blk, j, i, k]
            acts = share_ij * stance[i, j, k] + share_ji * stance[j, i, k]
            w.target[q, k] = (
                p.weights[blk, 0, k] * w.num[q, k]
                + p.weights[blk, 1, k] * w.total[k]
                + p.weights[blk, 2, k] * acts
                + p.weights[blk, 3, k] * (w.tau[i, j, k] + w.tau[j, i, k] - 1.0)
                + s.anchor[blk, i, j, k]
            )


@_rule
def update_alignment(s, p, w, blk):
    """Drift the structure toward ``w.target``, fade the mood, perceive clip(base + mood)."""
    n = s.mood.shape[1]
    for i in range(n):
        for j in range(n):
            for k in range(w.top.shape[0]):
                s.mood[blk, i, j, k] = s.mood[blk, i, j, k] * p.atmosphere[blk, k]
    for q in range(w.target.shape[0]):
        i, j = p.pair_i[q], p.pair_j[q]
        for k in range(w.top.shape[0]):
            base = _clip(
                s.base[blk, i, j, k] + p.rate[blk, k] * (w.target[q, k] - s.base[blk, i, j, k])
            )
            s.base[blk, i, j, k] = base
            s.base[blk, j, i, k] = base
            a = _clip(base + s.mood[blk, i, j, k])
            s.alignment[blk, i, j, k] = a
            s.alignment[blk, j, i, k] = a


@_rule
def update_stakes(s, p, w, blk):
    """Stakes relax to their baseline and are pushed by the chosen actions."""
    n, nb = w.chosen.shape[0], w.total.shape[0]
    for c in range(s.stakes.shape[1]):
        for k in range(nb):
            w.total[k] = 0.0
        for i in range(n):
            for k in range(nb):
                w.total[k] += p.push[blk, i, w.chosen[i, k], c, k]
        for k in range(nb):
            base = p.stake_base[blk, c, k]
            z = base + p.persistence[blk, c, k] * (s.stakes[blk, c, k] - base) + w.total[k]
            s.stakes[blk, c, k] = max(z, 0.0)


@_rule
def transition(s, p, w, blk):
    """Apply the chosen actions ``w.chosen``, in place: deals taken go to ``w.taken``, the
    new state's trust levels to ``w.tau``. The order keeps what each step reads: the drift
    reads last month's perceived alignment and stakes, the new stances and the updated trust.
    """
    n = w.chosen.shape[0]
    stances(p, w, blk)
    update_deals(s, p, w, blk)
    update_trust(s, p, w, blk)
    trust_levels(s, w, blk)
    drift_target(s, p, w.stance, w, blk)
    update_alignment(s, p, w, blk)
    update_stakes(s, p, w, blk)
    for i in range(n):
        for j in range(n):
            for k in range(w.top.shape[0]):
                s.stance[blk, i, j, k] = w.stance[i, j, k]
        for k in range(w.top.shape[0]):
            s.actions[blk, i, k] = w.chosen[i, k]


@_rule
def prepare(s, p, month, w, blk):
    """The first half of a month: events fire (uniforms ``w.u``), then each actor weighs its
    actions (logit weights into ``w.weights``). ``w.tau`` must hold the state's trust levels
    (`trust_levels`; `transition` leaves them there for the next month).
    """
    fired_events(p, month, w, blk)
    apply_events(s, p, w, blk)
    expected_utility(s, p, w, blk)
    for i in range(p.valid.shape[0]):
        choice_weights(p, w, i, blk)


@_rule
def initial_state(s, p, w, blk):
    """Month 0: declared alignment, trust and policies, and the anchor that makes the
    declared alignment a rest point of the drift given the month-1 pulls (see
    `sim.model.rules.initial_state`; the anchor's diagonal is 0, as it has no effect).
    """
    n, amax = p.valid.shape
    for i in range(n):
        held = p.policy0[i]
        for k in range(w.top.shape[0]):
            s.actions[blk, i, k] = held
            for j in range(n):
                s.alignment[blk, i, j, k] = p.align0[blk, i, j, k]
                s.base[blk, i, j, k] = p.align0[blk, i, j, k]
                s.mood[blk, i, j, k] = 0.0
                s.favourable[blk, i, j, k] = p.fav0[blk, i, j, k]
                s.unfavourable[blk, i, j, k] = p.unfav0[blk, i, j, k]
                s.stance[blk, i, j, k] = p.stance[blk, i, held, j, k] if held >= 0 else 0.0
                s.anchor[blk, i, j, k] = 0.0
    for k in range(w.top.shape[0]):
        for c in range(s.stakes.shape[1]):
            s.stakes[blk, c, k] = p.stake_base[blk, c, k]
        for x in range(s.offer_left.shape[1]):
            s.offer_left[blk, x, k] = 0
            s.in_deal[blk, x, k] = False
            s.bound_left[blk, x, k] = 0
    trust_levels(s, w, blk)
    expected_utility(s, p, w, blk)
    for i in range(n):
        choice_weights(p, w, i, blk)
        lo = i * amax
        for k in range(w.top.shape[0]):
            total = 0.0
            for a in range(amax):
                total += w.weights[lo + a, k]
            for j in range(n):  # the stance expected from the month-1 choice probabilities
                e = 0.0
                for a in range(amax):
                    e += (w.weights[lo + a, k] / total) * p.stance[blk, i, a, j, k]
                w.stance[i, j, k] = e
    drift_target(s, p, w.stance, w, blk)
    for q in range(w.target.shape[0]):
        i, j = p.pair_i[q], p.pair_j[q]
        for k in range(w.top.shape[0]):
            s.anchor[blk, i, j, k] = p.align0[blk, i, j, k] - w.target[q, k]
            s.anchor[blk, j, i, k] = s.anchor[blk, i, j, k]


# --------------------------------------------------------------------------------------------
# Loops over blocks of replicates: what Python calls. `run` is the engine's; the others serve
# the Python interface below (the Mesa model, tests). All call the rules above. Replicate
# ``b`` of the outputs is ``k`` of block ``blk = b // width``; a last block that is not full
# is padded with copies of a real replicate, whose results are not recorded.


@_loop
def run(s, p, w, keys, first, last, iu, ju, alignment, actions, fired, offers):
    """Months ``first + 1`` to ``last`` of every replicate, in place, recording each month:
    ``alignment`` (R, T + 1, pairs) at rows months 0..T, ``actions``, ``fired`` and ``offers``
    at rows months 1..T (so row t holds month t + 1).
    """
    n = p.valid.shape[0]
    e, wb = w.fired.shape[0], w.top.shape[0]
    r = alignment.shape[0]
    for blk in range(s.alignment.shape[0]):
        trust_levels(s, w, blk)
        for t in range(first, last):
            uniforms(keys, t, e + n, w.u, blk)
            prepare(s, p, t + 1, w, blk)
            for k in range(min(wb, r - blk * wb)):
                for x in range(offers.shape[2]):
                    offers[blk * wb + k, t, x] = s.offer_left[blk, x, k] > 0
            choose_block(p, w, blk)
            transition(s, p, w, blk)
            for k in range(min(wb, r - blk * wb)):
                b = blk * wb + k
                for x in range(e):
                    fired[b, t, x] = w.fired[x, k]
                for i in range(n):
                    actions[b, t, i] = w.chosen[i, k]
                for q in range(iu.shape[0]):
                    alignment[b, t + 1, q] = s.alignment[blk, iu[q], ju[q], k]


@_loop
def _initial_rows(s, p, w):
    for blk in range(s.alignment.shape[0]):
        initial_state(s, p, w, blk)


@_loop
def _prepare_rows(s, p, w, month, u_events, fired, weights):
    n, amax = p.valid.shape
    r, wb = u_events.shape[0], w.top.shape[0]
    for blk in range(s.alignment.shape[0]):
        for k in range(wb):
            b = min(blk * wb + k, r - 1)  # padding repeats the last replicate
            for x in range(u_events.shape[1]):
                w.u[x, k] = u_events[b, x]
        trust_levels(s, w, blk)
        prepare(s, p, month, w, blk)
        for k in range(min(wb, r - blk * wb)):
            b = blk * wb + k
            for x in range(fired.shape[1]):
                fired[b, x] = w.fired[x, k]
            for i in range(n):
                for a in range(amax):
                    weights[b, i, a] = w.weights[i * amax + a, k]


@_loop
def _choose_rows(weights, u, out):
    for r in range(weights.shape[0]):
        for i in range(weights.shape[1]):
            out[r, i] = choose(weights[r, i], u[r, i])


@_loop
def _transition_rows(s, p, w, actions, taken):
    r, wb = actions.shape[0], w.top.shape[0]
    for blk in range(s.alignment.shape[0]):
        for k in range(wb):
            b = min(blk * wb + k, r - 1)
            for i in range(actions.shape[1]):
                w.chosen[i, k] = actions[b, i]
        transition(s, p, w, blk)
        for k in range(min(wb, r - blk * wb)):
            for x in range(taken.shape[1]):
                taken[blk * wb + k, x] = w.taken[x, k]


# --------------------------------------------------------------------------------------------
# The rules' interface over `State`, as in `sim.model.rules` (pure: inputs are not changed).


def start(params: Params, replicates: int) -> State:
    """The state at month 0 for ``replicates`` rows (`sim.model.rules.initial_state`)."""
    return _state(start_buffers(params, replicates), 0, replicates)


def start_buffers(params: Params, replicates: int) -> Buffers:
    """`start` as the kernel's buffers, for `run`."""
    n, k, d = len(params.actors), len(params.issues), len(params.deals)
    nb, wb = blocks(replicates), width(replicates)
    square = (nb, n, n, wb)
    shapes = {"stakes": (nb, k, wb), "actions": (nb, n, wb)}
    shapes |= {f: (nb, d, wb) for f in ("offer_left", "in_deal", "bound_left")}
    buf = Buffers(*(np.zeros(shapes.get(f, square), dtype=t) for f, t in STATE))
    p = pack(params, replicates)
    _initial_rows(buf, p, work(p))
    return buf


def prepare_month(
    state: State, params: Params, u_events: np.ndarray
) -> tuple[State, np.ndarray, np.ndarray]:
    """Events, then logit weights (`sim.model.rules.prepare`): (state after events, fired
    events (R, E), choice weights (R, N, Amax)).
    """
    buf = buffers(state)
    fired, weights = prepare_buffers(buf, params, state.month + 1, u_events)
    return _state(buf, state.month, len(state.actions)), fired, weights


def prepare_buffers(
    buf: Buffers, params: Params, month: int, u_events: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`prepare_month` on the kernel's buffers, in place: (fired events, choice weights)."""
    r = len(u_events)
    p = pack(params, r)
    fired = np.zeros((r, len(params.events)), dtype=bool)
    weights = np.zeros((r, *p.valid.shape))
    u = np.ascontiguousarray(u_events, np.float64)
    _prepare_rows(buf, p, _scratch(params, r), month, u, fired, weights)
    return fired, weights


def choose_actions(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One action per (replicate, actor) by inverse CDF (`sim.model.rules.choose`), (R, N)."""
    out = np.zeros(u.shape, dtype=np.int64)
    w, uu = np.ascontiguousarray(weights, np.float64), np.ascontiguousarray(u, np.float64)
    _choose_rows(w, uu, out)
    return out


def transition_month(state: State, params: Params, actions: np.ndarray) -> tuple[State, np.ndarray]:
    """Apply the chosen actions (`sim.model.rules.transition`): (next state, deals taken)."""
    buf = buffers(state)
    taken = transition_buffers(buf, params, actions)
    return _state(buf, state.month + 1, len(state.actions)), taken


def transition_buffers(buf: Buffers, params: Params, actions: np.ndarray) -> np.ndarray:
    """`transition_month` on the kernel's buffers, in place: deals taken (R, D)."""
    r = len(actions)
    p = pack(params, r)
    taken = np.zeros((r, len(params.deals)), dtype=bool)
    chosen = np.ascontiguousarray(actions, np.int64)
    _transition_rows(buf, p, _scratch(params, r), chosen, taken)
    return taken


def state_of(buf: Buffers, month: int, replicates: int) -> State:
    """The `State` held in the kernel's buffers (a copy)."""
    return _state(buf, month, replicates)


def _scratch(params: Params, replicates: int) -> Work:
    """Scratch for calls on ``params`` (kept with its packed arrays: calls overwrite it)."""
    p = pack(params, replicates)
    cached = params.__dict__.get("_kernel_work")
    if cached is None or cached[0] is not p:
        cached = (p, work(p))
        params.__dict__["_kernel_work"] = cached
    return cached[1]
