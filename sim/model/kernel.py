"""The compiled kernel: the model's monthly rules as numba functions over blocks of replicates.

This is what runs. Every caller goes through one compiled entry point, `_drive`, in one of its
phases (`PHASES`): the array engine (`sim.model.engine.simulate`) through `run`, months of
every replicate; the Mesa model (`sim.model.mesa_model`) through `start_buffers`,
`prepare_buffers` and `transition_buffers` on one replicate, each agent choosing with
`choose`; explanations through the engine's months and `utilities`. All reach the very same
compiled rule functions, so they cannot disagree. The functions carry the names of their numpy
counterparts in `sim.model.rules`, which states the equations as array algebra, documents
them and serves as the test oracle (tests/test_kernel.py compares the two on random states
and parameters); a change to a rule goes into both.

Numbers: the kernel sums in a fixed order where numpy and BLAS choose their own, so results
agree with `sim.model.rules` to about 1e-15, not bit for bit; a logit draw that lands within
that distance of an edge of the cumulative probabilities may pick the neighbouring action
(`python benchmarks/bench_kernel.py --agreement` counts how often). Within the kernel, results
are exact: the same inputs give the same bytes whatever the batch.

Layout (`sim.model.layout`): every array the kernel reads or updates has the replicate as its
last axis, and the replicates of a block advance through each step of a month together, so
each step is a short loop over neighbouring memory that the compiler turns into vector
instructions, and the processor overlaps the replicates' chains of dependent arithmetic.

Compilation: every call passes C-contiguous arrays of the same dtypes, so a process compiles
one signature of `_drive`, ever; it is cached on disk (``cache=True``, next to this file or
in ``NUMBA_CACHE_DIR``), so only the first process after an install or a change compiles,
and says so on stderr before it starts (`will_compile`).
"""

from __future__ import annotations

import sys
from collections import namedtuple
from dataclasses import replace

import numpy as np
from numba import njit

from sim.model.layout import (
    Buffers,
    buffers,
    empty_buffers,
    pack,
    scratch,
    state_of,
    work,
)
from sim.model.params import Params
from sim.model.rules import State

# SplitMix64 constants of `sim.model.rng` (repeated here: numba's cache would not notice a
# change to another module, so everything the kernel compiles lives in this file).
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV_2_53 = 1.0 / 9007199254740992.0

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
def _nb(w):
    """The number of replicates in a block (the last axis of the scratch arrays)."""
    return w.u.shape[1]


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
            for k in range(_nb(w)):
                w.tau[i, j, k] = trust_level(
                    s.favourable[blk, i, j, k], s.unfavourable[blk, i, j, k]
                )


@_rule
def fired_events(p, month, w, blk):
    """Which events occur in ``month``: scheduled ones on their month, random ones with their
    hazard inside their window (uniforms ``w.u``), into ``w.fired``.
    """
    for e in range(w.fired.shape[0]):
        for k in range(_nb(w)):
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
    ne, nb = w.fired.shape[0], _nb(w)
    some = False
    for e in range(ne):
        for k in range(nb):
            some = some | w.fired[e, k]
    if not some:
        return
    n, nk = s.alignment.shape[1], s.stakes.shape[1]
    for c in range(nk):
        for k in range(nb):
            w.shock[k] = 0.0
        for e in range(ne):
            for k in range(nb):
                w.shock[k] += w.fired[e, k] * p.ev_stakes[blk, e, c, k]
        for k in range(nb):
            s.stakes[blk, c, k] = max(s.stakes[blk, c, k] + w.shock[k], 0.0)
    for i in range(n):
        for j in range(n):
            for k in range(nb):
                w.shock[k] = 0.0
            for e in range(ne):
                for k in range(nb):
                    w.shock[k] += w.fired[e, k] * p.ev_align[blk, e, i, j, k]
            for k in range(nb):
                mood = s.mood[blk, i, j, k] + w.shock[k]
                s.mood[blk, i, j, k] = mood
                a = 1.0 if i == j else _clip(s.base[blk, i, j, k] + mood)
                s.alignment[blk, i, j, k] = a
    for x in range(s.offer_left.shape[1]):
        for k in range(nb):
            w.opened[k] = False
        for e in range(ne):
            if p.ev_offer[e, x]:
                for k in range(nb):
                    w.opened[k] = w.opened[k] | w.fired[e, k]
        for k in range(nb):
            left = s.offer_left[blk, x, k]
            s.offer_left[blk, x, k] = max(left, p.deal_open[blk, x, k]) if w.opened[k] else left


@_rule
def allowed(s, p, i, a, blk, w):
    """Whether actor ``i`` may choose action ``a``, into ``w.allowed`` (block): it exists, it is
    available, and a deal's action only while its offer is on the table or the deal is kept.
    """
    nb = _nb(w)
    for k in range(nb):
        w.allowed[k] = p.valid[i, a] & (p.available[blk, i, a, k] > 0)
    for x in range(p.deal_actor.shape[0]):
        if p.deal_actor[x] == i and p.deal_action[x] == a:
            for k in range(nb):
                w.allowed[k] = w.allowed[k] & ((s.offer_left[blk, x, k] > 0) | s.in_deal[blk, x, k])


@_rule
def change_cost(s, p, i, a, blk, w):
    """Cost of leaving the held policy (inertia) and of leaving a binding deal (exit cost),
    into ``w.cost`` (block).
    """
    nb = _nb(w)
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
    issue, rel, relation, const = w.issue, w.rel, w.relation, w.const
    for q in range(cells):
        for k in range(_nb(w)):
            issue[q, k] = 0.0
            rel[q, k] = 0.0
    for c in range(nk):  # issues: sum over stakes
        for q in range(cells):
            if not p.issue_used[c, q]:
                continue
            for k in range(_nb(w)):
                issue[q, k] += p.issue_by_stake[blk, c, q, k] * s.stakes[blk, c, k]
    for i in range(n):
        # The relation vector (stances' pulls, then commitments' trust) and the squares'
        # constant parts are the same for every action of actor i.
        for k in range(_nb(w)):
            const[i, k] = 0.0
        for j in range(n):
            for k in range(_nb(w)):
                w_a, w_r = p.w_alignment[blk, i, k], p.w_reciprocity[blk, i, k]
                a_ij, s_ji = s.alignment[blk, i, j, k], s.stance[blk, j, i, k]
                relation[j, i, k] = w_a * a_ij + w_r * s_ji
                relation[n + j, i, k] = p.w_trust[blk, i, k] * (2.0 * w.tau[i, j, k] - 1.0)
                const[i, k] += w_a * (a_ij * a_ij) + w_r * (s_ji * s_ji)
        for k in range(_nb(w)):
            const[i, k] = const[i, k] - p.w_alignment[blk, i, k]
    for x in range(2 * n):  # stances and commitments: sum over partners
        for i in range(n):
            for a in range(amax):
                q = i * amax + a
                if not p.commit_used[x, q]:
                    continue
                for k in range(_nb(w)):
                    rel[q, k] += p.commit_by_relation[blk, x, q, k] * relation[x, i, k]
    for i in range(n):
        for a in range(amax):
            q = i * amax + a
            change_cost(s, p, i, a, blk, w)
            allowed(s, p, i, a, blk, w)
            for k in range(_nb(w)):
                value = (
                    issue[q, k]
                    + rel[q, k]
                    - p.extremity[blk, i, a, k]
                    - p.dependence[blk, i, a, k]
                    - const[i, k]
                    + p.bias[blk, i, a, k]
                    - w.cost[k]
                )
                w.eu[q, k] = value if w.allowed[k] else -np.inf


@_rule
def choice_weights(p, w, i, blk):
    """Unnormalised logit weights exp((EU(a) - max EU) / T) of actor ``i``; impossible: 0."""
    amax = p.valid.shape[1]
    lo = i * amax
    for a in range(amax):
        for k in range(_nb(w)):
            w.weights[lo + a, k] = w.eu[lo + a, k] / p.temp[blk, i, k]
    for k in range(_nb(w)):
        w.top[k] = w.weights[lo, k]
    for a in range(1, amax):
        for k in range(_nb(w)):
            w.top[k] = max(w.top[k], w.weights[lo + a, k])
    for a in range(amax):
        for k in range(_nb(w)):
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
        for k in range(_nb(w)):
            w.weight_sum[k] = 0.0
            w.cdf[k] = 0.0
            w.chosen[i, k] = 0
        for a in range(amax):
            for k in range(_nb(w)):
                w.weight_sum[k] += w.weights[lo + a, k]
        for k in range(_nb(w)):
            w.threshold[k] = w.u[e + i, k] * w.weight_sum[k]
        for a in range(amax - 1):
            for k in range(_nb(w)):
                w.cdf[k] += w.weights[lo + a, k]
                w.chosen[i, k] += w.cdf[k] <= w.threshold[k]


@_rule
def stances(p, w, blk):
    """Stance of each actor toward each other implied by ``w.chosen``, into ``w.stance``."""
    n = w.stance.shape[0]
    for i in range(n):
        for j in range(n):
            for k in range(_nb(w)):
                w.stance[i, j, k] = p.stance[blk, i, w.chosen[i, k], j, k]


@_rule
def update_deals(s, p, w, blk):
    """Deals after this month's choices (taking, keeping, leaving; offers run down or are
    made), in place; which deals were taken goes to ``w.taken``.
    """
    n = p.valid.shape[0]
    for x in range(p.deal_actor.shape[0]):
        for k in range(_nb(w)):
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
            for k in range(_nb(w)):
                m = p.memory[blk, i, k]
                received = w.stance[j, i, k] * p.evidence[blk, k]
                s.favourable[blk, i, j, k] = m * s.favourable[blk, i, j, k] + max(received, 0.0)
                s.unfavourable[blk, i, j, k] = m * s.unfavourable[blk, i, j, k] + max(
                    -received, 0.0
                )
    for x in range(p.deal_actor.shape[0]):
        v, a = p.deal_victim[x], p.deal_actor[x]
        for k in range(_nb(w)):
            s.unfavourable[blk, v, a, k] += p.deal_shock[blk, x, k] * w.taken[x, k]


@_rule
def interest_overlap(s, p, w, blk):
    """Salience- and stakes-weighted agreement of positions of each pair, into ``w.overlap``:
    sum_k num_k z_k / sum_k den_k z_k (0 where the weights vanish).
    """
    pairs = w.num.shape[0]
    for q in range(pairs):
        for k in range(_nb(w)):
            w.num[q, k] = 0.0
            w.den[q, k] = 0.0
    for c in range(s.stakes.shape[1]):
        for q in range(pairs):
            for k in range(_nb(w)):
                z = s.stakes[blk, c, k]
                w.num[q, k] += p.num_by_stake[blk, c, q, k] * z
                w.den[q, k] += p.den_by_stake[blk, c, q, k] * z
    for q in range(pairs):
        for k in range(_nb(w)):
            den = w.den[q, k]
            w.overlap[q, k] = w.num[q, k] / den if den > 0 else 0.0


@_rule
def structural_balance(s, i, j, blk, w):
    """Mean over third parties m of A_im A_mj ("the enemy of my enemy") for the pair (i, j),
    into ``w.balance`` (block).
    """
    n, nb = s.alignment.shape[1], _nb(w)
    for k in range(nb):
        w.balance[k] = 0.0
    if n < 3:
        return
    for m in range(n):
        for k in range(nb):
            w.balance[k] += s.alignment[blk, i, m, k] * s.alignment[blk, m, j, k]
    for k in range(nb):
        w.balance[k] = (w.balance[k] - 2.0 * s.alignment[blk, i, j, k]) / (n - 2)


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
        for k in range(_nb(w)):
            share_ij, share_ji = p.cap_share[blk, i, j, k], p.cap_share[blk, j, i, k]
            acts = share_ij * stance[i, j, k] + share_ji * stance[j, i, k]
            w.target[q, k] = (
                p.weights[blk, 0, k] * w.overlap[q, k]
                + p.weights[blk, 1, k] * w.balance[k]
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
            for k in range(_nb(w)):
                s.mood[blk, i, j, k] = s.mood[blk, i, j, k] * p.atmosphere[blk, k]
    for q in range(w.target.shape[0]):
        i, j = p.pair_i[q], p.pair_j[q]
        for k in range(_nb(w)):
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
    n, nb = w.chosen.shape[0], _nb(w)
    for c in range(s.stakes.shape[1]):
        for k in range(nb):
            w.pushed[k] = 0.0
        for i in range(n):
            for k in range(nb):
                w.pushed[k] += p.push[blk, i, w.chosen[i, k], c, k]
        for k in range(nb):
            base = p.stake_base[blk, c, k]
            z = base + p.persistence[blk, c, k] * (s.stakes[blk, c, k] - base) + w.pushed[k]
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
            for k in range(_nb(w)):
                s.stance[blk, i, j, k] = w.stance[i, j, k]
        for k in range(_nb(w)):
            s.actions[blk, i, k] = w.chosen[i, k]


@_rule
def prepare(s, p, month, w, blk, events):
    """The first half of a month: events fire (uniforms ``w.u``), then each actor weighs its
    actions (utilities into ``w.eu``, logit weights into ``w.weights``). ``w.tau`` must hold
    the state's trust levels (`trust_levels`; `transition` leaves them there for the next
    month). Without ``events``, only the weighing (for explanations of a state).
    """
    if events:
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
        for k in range(_nb(w)):
            s.actions[blk, i, k] = held
            for j in range(n):
                s.alignment[blk, i, j, k] = p.align0[blk, i, j, k]
                s.base[blk, i, j, k] = p.align0[blk, i, j, k]
                s.mood[blk, i, j, k] = 0.0
                s.favourable[blk, i, j, k] = p.fav0[blk, i, j, k]
                s.unfavourable[blk, i, j, k] = p.unfav0[blk, i, j, k]
                s.stance[blk, i, j, k] = p.stance[blk, i, held, j, k] if held >= 0 else 0.0
                s.anchor[blk, i, j, k] = 0.0
    for k in range(_nb(w)):
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
        for k in range(_nb(w)):
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
        for k in range(_nb(w)):
            s.anchor[blk, i, j, k] = p.align0[blk, i, j, k] - w.target[q, k]
            s.anchor[blk, j, i, k] = s.anchor[blk, i, j, k]


# --------------------------------------------------------------------------------------------
# The one compiled entry point. Every call from Python goes through `_drive`, always with
# arguments of the same types (C-contiguous arrays of fixed dtypes, see `sim.model.layout`),
# so a process compiles (or loads from the disk cache) exactly one signature, whatever it
# runs: the engine, the Mesa model or an explanation. Replicate ``b`` of the outputs is ``k``
# of block ``blk = b // width``; a last block that is not full is padded with copies of the
# last replicate, whose results are not recorded.

START, MONTHS, PREPARE, UTILITY, TRANSITION = 0, 1, 2, 3, 4
PHASES = {
    START: "month 0 (`initial_state`)",
    MONTHS: "months first + 1 .. last: uniforms from the keys, events, choices, transitions",
    PREPARE: "one month's events (uniforms given) and weighing",
    UTILITY: "the weighing of the state as it is (no events)",
    TRANSITION: "one month's transition with the actions given",
}

Record = namedtuple("Record", "alignment actions fired offers weights eu taken")
Record.__doc__ = """What `_drive` writes, replicate axis first: ``alignment`` (R, T + 1, pairs)
float32 and ``actions`` (R, T, N) int8, ``fired`` (R, T, E) and ``offers`` (R, T, D) bool, at
row month - 1 - offset (alignment: month - offset); ``weights`` and ``eu`` (R, N, Amax) of the
month weighed; ``taken`` (R, D) bool, the deals taken by a transition."""


@_loop
def _drive(phase, s, p, w, keys, first, last, offset, u_given, actions_given, rec):
    """Run ``phase`` (see `PHASES`) for every block of replicates, in place on ``s``."""
    n = p.valid.shape[0]
    amax = p.valid.shape[1]
    e, wb = w.fired.shape[0], _nb(w)
    r = rec.taken.shape[0]
    for blk in range(s.alignment.shape[0]):
        if phase == START:
            initial_state(s, p, w, blk)
            continue
        trust_levels(s, w, blk)
        for t in range(first, last):
            row = t - offset
            if phase == MONTHS:
                uniforms(keys, t, e + n, w.u, blk)
            else:
                for k in range(wb):
                    b = min(blk * wb + k, r - 1)  # padding repeats the last replicate
                    for x in range(u_given.shape[1]):
                        w.u[x, k] = u_given[b, x]
                    if phase == TRANSITION:
                        for i in range(n):
                            w.chosen[i, k] = actions_given[b, i]
            if phase != TRANSITION:
                prepare(s, p, t + 1, w, blk, phase != UTILITY)
                for k in range(min(wb, r - blk * wb)):
                    b = blk * wb + k
                    for x in range(rec.offers.shape[2]):
                        rec.offers[b, row, x] = s.offer_left[blk, x, k] > 0
                    for x in range(e):
                        rec.fired[b, row, x] = w.fired[x, k]
                    if phase != MONTHS:
                        for i in range(n):
                            for a in range(amax):
                                rec.weights[b, i, a] = w.weights[i * amax + a, k]
                                rec.eu[b, i, a] = w.eu[i * amax + a, k]
                if phase != MONTHS:
                    continue
                choose_block(p, w, blk)
            transition(s, p, w, blk)
            for k in range(min(wb, r - blk * wb)):
                b = blk * wb + k
                for x in range(rec.taken.shape[1]):
                    rec.taken[b, x] = w.taken[x, k]
                for i in range(n):
                    rec.actions[b, row, i] = w.chosen[i, k]
                for q in range(p.pair_i.shape[0]):
                    rec.alignment[b, row + 1, q] = s.alignment[blk, p.pair_i[q], p.pair_j[q], k]


# --------------------------------------------------------------------------------------------
# Compiling once, and saying so.

_ANNOUNCED = (
    "sim: compiling the model's kernel (numba); this happens once after an install or an "
    "upgrade and takes about a minute on 2 cores; later runs load it from the cache."
)


def will_compile(dispatcher, args: tuple) -> bool:
    """Whether calling ``dispatcher`` with ``args`` will compile: not yet compiled in this
    process and not in numba's disk cache (or the cached code is stale). Reads numba's cache
    index the way the dispatcher does; False when that cannot be read.
    """
    if dispatcher.signatures:
        return False
    try:
        sig = tuple(dispatcher.typeof_pyval(a) for a in args)
        cache = dispatcher._cache
        key = cache._index_key(sig, dispatcher.targetctx.codegen())
        return key not in cache._cache_file._load_index()
    except Exception:  # numba's internals moved: say nothing rather than something wrong
        return False


def _call(*args) -> None:
    """`_drive` on ``args``, first telling the user when it is about to be compiled."""
    if not _drive.signatures and will_compile(_drive, args):
        print(_ANNOUNCED, file=sys.stderr, flush=True)
        _choose_ready()
    _drive(*args)


def _choose_ready() -> None:
    """Compile `choose` (what each Mesa agent calls) with the kernel, so that it too is
    compiled once, in the step the user was told about.
    """
    choose(np.ones(2), 0.5)


def record(params: Params, replicates: int, months: int = 1, weighed: bool = False) -> Record:
    """Output arrays for ``replicates`` and ``months`` (weights and eu only if ``weighed``)."""
    n, e, d = len(params.actors), len(params.events), len(params.deals)
    pairs, amax = n * (n - 1) // 2, params.valid.shape[1]
    cells = (replicates, n, amax) if weighed else (replicates, 0, 0)
    return Record(
        alignment=np.zeros((replicates, months + 1, pairs), np.float32),
        actions=np.zeros((replicates, months, n), np.int8),
        fired=np.zeros((replicates, months, e), np.bool_),
        offers=np.zeros((replicates, months, d), np.bool_),
        weights=np.zeros(cells),
        eu=np.zeros(cells),
        taken=np.zeros((replicates, d), np.bool_),
    )


_NO_KEYS = np.zeros(0, np.uint64)
_NO_ACTIONS = np.zeros((0, 0), np.int64)


# --------------------------------------------------------------------------------------------
# The rules' interface over `State` and the kernel's buffers, as in `sim.model.rules`.


def run(
    buf: Buffers,
    params: Params,
    keys: np.ndarray,
    first: int,
    last: int,
    out: Record,
    offset: int = 0,
) -> None:
    """Months ``first + 1`` to ``last`` of every replicate, in place on ``buf``, recording
    each month into ``out`` (`Record`: month m at row m - 1 - offset, its alignment at row
    m - offset). ``keys`` are the runs' stream keys, padded to whole blocks.
    """
    r = out.alignment.shape[0]
    p = pack(params, r)
    u = np.zeros((r, 0))
    _call(MONTHS, buf, p, work(p), keys, first, last, offset, u, _NO_ACTIONS, out)


def run_record(
    alignment: np.ndarray, actions: np.ndarray, fired: np.ndarray, offers: np.ndarray
) -> Record:
    """A `Record` writing into a trajectory's arrays (the weighing is not recorded)."""
    r = alignment.shape[0]
    return Record(
        alignment,
        actions,
        fired,
        offers,
        np.zeros((r, 0, 0)),
        np.zeros((r, 0, 0)),
        np.zeros((r, 0), np.bool_),
    )


def start(params: Params, replicates: int) -> State:
    """The state at month 0 for ``replicates`` rows (`sim.model.rules.initial_state`)."""
    return state_of(start_buffers(params, replicates), 0, replicates)


def start_buffers(params: Params, replicates: int) -> Buffers:
    """`start` as the kernel's buffers, for `run`."""
    buf = empty_buffers(params, replicates)
    p = pack(params, replicates)
    out = record(params, replicates)
    _call(START, buf, p, work(p), _NO_KEYS, 0, 0, 0, np.zeros((replicates, 0)), _NO_ACTIONS, out)
    return buf


def prepare_month(
    state: State, params: Params, u_events: np.ndarray
) -> tuple[State, np.ndarray, np.ndarray]:
    """Events, then logit weights (`sim.model.rules.prepare`): (state after events, fired
    events (R, E), choice weights (R, N, Amax)).
    """
    buf = buffers(state)
    fired, weights, _ = prepare_buffers(buf, params, state.month + 1, u_events)
    return state_of(buf, state.month, len(state.actions)), fired, weights


def prepare_buffers(
    buf: Buffers, params: Params, month: int, u_events: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`prepare_month` on the kernel's buffers, in place: (fired events (R, E), choice weights
    and expected utilities (R, N, Amax)).
    """
    r = len(u_events)
    p = pack(params, r)
    out = record(params, r, weighed=True)
    u = np.ascontiguousarray(u_events, np.float64)
    _call(
        PREPARE,
        buf,
        p,
        scratch(params, r),
        _NO_KEYS,
        month - 1,
        month,
        month - 1,
        u,
        _NO_ACTIONS,
        out,
    )
    return out.fired[:, 0], out.weights, out.eu


def utilities(state: State, params: Params) -> np.ndarray:
    """Each actor's expected utility of each action in ``state`` as the kernel computes it
    (impossible actions: -inf), (R, N, Amax); no events fire.
    """
    r = len(state.actions)
    buf = buffers(state)
    p = pack(params, r)
    out = record(params, r, weighed=True)
    m = state.month
    _call(
        UTILITY,
        buf,
        p,
        scratch(params, r),
        _NO_KEYS,
        m,
        m + 1,
        m,
        np.zeros((r, 0)),
        _NO_ACTIONS,
        out,
    )
    return out.eu


def choose_actions(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One action per (replicate, actor) by inverse CDF (`sim.model.rules.choose`), (R, N):
    `choose` on each row, as each Mesa agent calls it.
    """
    w = np.ascontiguousarray(weights, np.float64)
    out = np.zeros(u.shape, dtype=np.int64)
    for r, i in np.ndindex(*u.shape):
        out[r, i] = choose(w[r, i], float(u[r, i]))
    return out


def transition_month(state: State, params: Params, actions: np.ndarray) -> tuple[State, np.ndarray]:
    """Apply the chosen actions (`sim.model.rules.transition`): (next state, deals taken)."""
    buf = buffers(state)
    taken = transition_buffers(buf, params, actions)
    return state_of(buf, state.month + 1, len(state.actions)), taken


def transition_buffers(buf: Buffers, params: Params, actions: np.ndarray) -> np.ndarray:
    """`transition_month` on the kernel's buffers, in place: deals taken (R, D)."""
    r = len(actions)
    p = pack(params, r)
    out = record(params, r)
    chosen = np.ascontiguousarray(actions, np.int64)
    _call(TRANSITION, buf, p, scratch(params, r), _NO_KEYS, 0, 1, 0, np.zeros((r, 0)), chosen, out)
    return out.taken


# --------------------------------------------------------------------------------------------
# The kernel's utility split into named terms (for explanations). Expected utility is linear
# in each group of parameters below, so a term is the kernel's own utility with every other
# group set to zero: the breakdown comes from the code that runs, not from a second statement
# of the rule. The issues term is split by zeroing the salience of the other issues.

TERM_FIELDS = {
    "issues": ("sal",),
    "consistency": ("w_alignment",),
    "reciprocity": ("w_reciprocity",),
    "abandonment": ("w_trust",),
    "dependence": ("w_autonomy",),
    "commitment": ("bias",),
    "change": ("inertia", "deal_exit"),
}


def term_params(params: Params) -> dict[str, Params]:
    """``params`` with every term's parameters but one set to zero, per term, with the
    issues term once per issue (``issue.<id>``); cached on ``params``.
    """
    cached = params.__dict__.get("_term_params")
    if cached is not None:
        return cached
    every = {f for group in TERM_FIELDS.values() for f in group}

    def only(keep: tuple[str, ...], **given: np.ndarray) -> Params:
        zero = {f: np.zeros_like(getattr(params, f)) for f in every - set(keep)}
        return replace(params, **zero, **given)

    out = {}
    for k, issue in enumerate(params.issues):
        sal = np.zeros_like(params.sal)
        sal[:, :, k] = params.sal[:, :, k]
        out[f"issue.{issue}"] = only(("sal",), sal=sal)
    for term, group in TERM_FIELDS.items():
        if term != "issues":
            out[term] = only(group)
    params.__dict__["_term_params"] = out
    return out


def utility_terms(state: State, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's expected utility of each action in ``state`` and its split into named
    terms: (utility (R, N, Amax), -inf where an action is impossible; terms (R, N, Amax, X),
    0 where it is impossible), terms in `term_params` order (``issue.<id>`` per issue, then
    the others of `TERM_FIELDS`). The terms add up to the utility to rounding (1e-12).
    """
    eu = utilities(state, params)
    ok = np.isfinite(eu)
    parts = [utilities(state, p) for p in term_params(params).values()]
    return eu, np.where(ok[..., None], np.stack(parts, axis=-1), 0.0)
