"""The compiled kernel: the model's monthly rules as numba functions, one replicate at a time.

This is what runs. The array engine (`sim.model.engine.simulate`) calls `run`, a compiled loop
over replicates and months; the Mesa model (`sim.model.mesa_model`) calls `initial_state`,
`prepare`, `choose` and `transition` on one replicate, and these call the very same compiled
per-replicate functions, so the two cannot disagree. The functions carry the names of their
numpy counterparts in `sim.model.rules`, which states the equations as array algebra, documents
them and serves as the test oracle (tests/test_kernel.py compares the two on random states and
parameters); a change to a rule goes into both.

Numbers: the kernel sums in a fixed order where numpy and BLAS choose their own, so results
agree with `sim.model.rules` to about 1e-15, not bit for bit; a logit draw that lands within
that distance of an edge of the cumulative probabilities may pick the neighbouring action
(`python benchmarks/bench_kernel.py --agreement` counts how often). Within the kernel, results
are exact: the same inputs give the same bytes whatever the batch.

Compilation is cached on disk (``cache=True``, next to this file or in numba's user cache
directory), so only the first process after an install or a change compiles. Parameters travel
as one `Arrays` named tuple of contiguous arrays (`pack`), the state as a `Buffers` named tuple
(leading replicate axis R); parameter arrays keep a leading row axis of 1 (shared) or R.
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
# Derived tables in the kernel's layout (see `pack`), with the Derived arrays used as they are.
LAYOUT = ("issue_by_stake", "commit_by_relation", "num_by_stake", "den_by_stake")
DERIVED = ("dependence", "extremity", "cap_share", "weights")
Arrays = namedtuple("Arrays", [f for f, _ in FIELDS] + ["pair_i", "pair_j", *LAYOUT, *DERIVED])
Arrays.__doc__ = "A parameter set as the kernel reads it: contiguous arrays, fixed dtypes."

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
Buffers.__doc__ = "The state's arrays (leading replicate axis), which the kernel updates in place."

Work = namedtuple(
    "Work", "u fired tau relation const eu rel weights chosen stance num den target taken"
)
Work.__doc__ = "Scratch arrays for one replicate-month, allocated once per call."


def work(p: Arrays) -> Work:
    """Scratch arrays sized for a parameter set (the compiled loops allocate nothing)."""
    n, amax = p.valid.shape
    e, d, pairs = p.ev_month.shape[1], p.deal_actor.shape[0], p.pair_i.shape[0]
    return Work(
        u=np.zeros(e + n),
        fired=np.zeros(e, np.bool_),
        tau=np.zeros((n, n)),
        relation=np.zeros((2 * n, n)),
        const=np.zeros(n),
        eu=np.zeros(n * amax),
        rel=np.zeros(n * amax),
        weights=np.zeros(n * amax),
        chosen=np.zeros(n, np.int64),
        stance=np.zeros((n, n)),
        num=np.zeros(pairs),
        den=np.zeros(pairs),
        target=np.zeros(pairs),
        taken=np.zeros(d, np.bool_),
    )


def pack(params: Params) -> Arrays:
    """The kernel's view of a parameter set (cached on the `Params` object).

    The tables of the month's sums (issues over stakes, relations over partners, interest
    overlap over stakes) are laid out with the summed axis first: the kernel then runs one
    sum per (actor, action) cell, or per pair, side by side over neighbouring memory instead
    of one after another; the order of the terms within each sum is unchanged.
    """
    cached = params.__dict__.get("_kernel_arrays")
    if cached is None:
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
        cached = Arrays(
            *(np.ascontiguousarray(getattr(params, f), dtype=t) for f, t in FIELDS),
            iu.astype(np.int64),
            ju.astype(np.int64),
            *(np.ascontiguousarray(layout[f], dtype=np.float64) for f in LAYOUT),
            *(np.ascontiguousarray(getattr(d, f), dtype=np.float64) for f in DERIVED),
        )
        # Params is frozen; like `functools.cached_property`, write the instance dict.
        params.__dict__["_kernel_arrays"] = cached
    return cached


def buffers(state: State) -> Buffers:
    """Private copies of a state's arrays for the kernel to update in place."""
    return Buffers(*(np.array(getattr(state, f), dtype=t, order="C") for f, t in STATE))


def _state(buf: Buffers, month: int) -> State:
    return State(month=month, **buf._asdict())


# The per-replicate rules are inlined into the loops that call them (numba IR inlining). The
# loops run without numba's reference counting (``_nrt=False``, a long-standing numba option):
# they allocate nothing (scratch comes from `work`), and with it every read of an array from
# the parameter tuple inside a branch paid an atomic increment and decrement, which made the
# kernel 4x slower. ``error_model="numpy"``: a division by zero gives inf or nan, as in numpy.
_rule = njit(cache=True, inline="always", error_model="numpy")
_loop = njit(cache=True, _nrt=False, error_model="numpy")

# --------------------------------------------------------------------------------------------
# Per-replicate rules (names as in `sim.model.rules`). ``s`` is the state, ``p`` the parameters,
# ``r`` the replicate; a parameter array's row is ``_row(array, r)``.


@_rule
def _row(a, r):
    return r if a.shape[0] > 1 else 0


@_rule
def uniforms(key, month, slots, out):
    """The ``slots`` uniforms of one run's month (`sim.model.rng.uniforms`, bit for bit)."""
    base = np.uint64(month * slots + 1)
    for q in range(slots):
        z = key + (base + np.uint64(q)) * _GOLDEN
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        z = z ^ (z >> _S31)
        out[q] = float(z >> _S11) * _INV_2_53


@_rule
def trust_level(favourable, unfavourable):
    """Expected reliability under the beta reputation model."""
    return (favourable + 1.0) / (favourable + unfavourable + 2.0)


@_rule
def trust_levels(s, r, tau):
    """``trust_level`` of every pair of replicate ``r``, into ``tau`` (N, N)."""
    n = tau.shape[0]
    for i in range(n):
        for j in range(n):
            tau[i, j] = trust_level(s.favourable[r, i, j], s.unfavourable[r, i, j])


@_rule
def fired_events(p, r, month, u, fired):
    """Which events occur in ``month``: scheduled ones on their month, random ones with their
    hazard inside their window.
    """
    pm, ps, pe = _row(p.ev_month, r), _row(p.ev_start, r), _row(p.ev_end, r)
    ph = _row(p.ev_hazard, r)
    for e in range(fired.shape[0]):
        m = p.ev_month[pm, e]
        in_window = p.ev_start[ps, e] <= month and month <= p.ev_end[pe, e]
        fired[e] = m == month or (m < 0 and in_window and u[e] < p.ev_hazard[ph, e])


@_rule
def _clip(x):
    return min(max(x, -1.0), 1.0)


@_rule
def apply_events(s, p, r, fired):
    """Shock the atmosphere (mood) and the stakes by the events that fired; put offers on the
    table.
    """
    if not fired.any():
        return
    n, k, ne = s.alignment.shape[1], s.stakes.shape[1], fired.shape[0]
    pa, pk, po = _row(p.ev_align, r), _row(p.ev_stakes, r), _row(p.deal_open, r)
    for c in range(k):
        z = 0.0
        for e in range(ne):
            if fired[e]:
                z += p.ev_stakes[pk, e, c]
        s.stakes[r, c] = max(s.stakes[r, c] + z, 0.0)
    for i in range(n):
        for j in range(n):
            shock = 0.0
            for e in range(ne):
                if fired[e]:
                    shock += p.ev_align[pa, e, i, j]
            s.mood[r, i, j] = s.mood[r, i, j] + shock
            s.alignment[r, i, j] = 1.0 if i == j else _clip(s.base[r, i, j] + s.mood[r, i, j])
    for x in range(s.offer_left.shape[1]):
        opened = False
        for e in range(ne):
            opened = opened or (fired[e] and p.ev_offer[e, x])
        if opened:
            s.offer_left[r, x] = max(s.offer_left[r, x], p.deal_open[po, x])


@_rule
def allowed(s, p, r, i, a):
    """Whether actor ``i`` may choose action ``a`` this month (exists, available, and a deal's
    action only while its offer is on the table or the deal is kept).
    """
    ok = p.valid[i, a] and p.available[_row(p.available, r), i, a] > 0
    for x in range(p.deal_actor.shape[0]):
        if p.deal_actor[x] == i and p.deal_action[x] == a:
            ok = ok and (s.offer_left[r, x] > 0 or s.in_deal[r, x])
    return ok


@_rule
def change_cost(s, p, r, i, a):
    """Cost of leaving the held policy (inertia) and of leaving a binding deal (exit cost)."""
    held = s.actions[r, i]
    cost = p.inertia[_row(p.inertia, r), i] * (held >= 0 and a != held)
    pe = _row(p.deal_exit, r)
    for x in range(p.deal_actor.shape[0]):
        if p.deal_actor[x] == i and s.in_deal[r, x] and s.bound_left[r, x] > 0:
            if a != p.deal_action[x]:
                cost = cost + p.deal_exit[pe, x]
    return cost


@_rule
def expected_utility(s, p, r, tau, w):
    """Each actor's expected utility of each action (impossible actions: -inf) into ``w.eu``
    (flat over actor x action), given the state's trust levels ``tau``; the terms and their
    order as in `sim.model.rules.expected_utility`.
    """
    n, amax = p.valid.shape
    k, cells = s.stakes.shape[1], n * amax
    eu, rel, relation, const = w.eu, w.rel, w.relation, w.const
    pi, pc = _row(p.issue_by_stake, r), _row(p.commit_by_relation, r)
    px, pd, pb = _row(p.extremity, r), _row(p.dependence, r), _row(p.bias, r)
    pwa, pwr, pwt = _row(p.w_alignment, r), _row(p.w_reciprocity, r), _row(p.w_trust, r)
    for q in range(cells):
        eu[q] = 0.0
        rel[q] = 0.0
    for c in range(k):  # issues: sum over stakes
        z = s.stakes[r, c]
        for q in range(cells):
            eu[q] += p.issue_by_stake[pi, c, q] * z
    for i in range(n):
        # The relation vector (stances' pulls, then commitments' trust) and the squares'
        # constant parts are the same for every action of actor i.
        w_a, w_r, w_t = p.w_alignment[pwa, i], p.w_reciprocity[pwr, i], p.w_trust[pwt, i]
        total = 0.0
        for j in range(n):
            a_ij, s_ji = s.alignment[r, i, j], s.stance[r, j, i]
            relation[j, i] = w_a * a_ij + w_r * s_ji
            relation[n + j, i] = w_t * (2.0 * tau[i, j] - 1.0)
            total += w_a * (a_ij * a_ij) + w_r * (s_ji * s_ji)
        const[i] = total - w_a
    for x in range(2 * n):  # stances and commitments: sum over partners
        for i in range(n):
            v = relation[x, i]
            for a in range(amax):
                q = i * amax + a
                rel[q] += p.commit_by_relation[pc, x, q] * v
    for i in range(n):
        for a in range(amax):
            q = i * amax + a
            if not allowed(s, p, r, i, a):
                eu[q] = -np.inf
                continue
            eu[q] = (
                eu[q]
                + rel[q]
                - p.extremity[px, i, a]
                - p.dependence[pd, i, a]
                - const[i]
                + p.bias[pb, i, a]
                - change_cost(s, p, r, i, a)
            )


@_rule
def choice_weights(eu, temperature, weights):
    """Unnormalised logit weights exp((EU(a) - max EU) / T) of one actor; impossible: 0."""
    amax = eu.shape[0]
    for a in range(amax):
        weights[a] = eu[a] / temperature
    top = weights[0]
    for a in range(1, amax):
        top = max(top, weights[a])
    for a in range(amax):
        # exp(-inf) is 0: skip the call for impossible actions.
        weights[a] = np.exp(weights[a] - top) if weights[a] > -np.inf else 0.0


@_rule
def choose(weights, u):
    """One action by inverse CDF: the number of cumulative weights at or below u x total."""
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
def stances(p, r, actions, out):
    """Stance of each actor toward each other implied by the chosen actions, into ``out``."""
    ps = _row(p.stance, r)
    n = out.shape[0]
    for i in range(n):
        for j in range(n):
            out[i, j] = p.stance[ps, i, actions[i], j]


@_rule
def update_deals(s, p, r, actions, taken):
    """Deals after this month's choices (taking, keeping, leaving; offers run down or are
    made), in place; which deals were taken goes to ``taken``.
    """
    n = p.valid.shape[0]
    pb, po = _row(p.deal_binds, r), _row(p.deal_open, r)
    for x in range(p.deal_actor.shape[0]):
        keeps = actions[p.deal_actor[x]] == p.deal_action[x]
        took = keeps and not s.in_deal[r, x]
        bound = p.deal_binds[pb, x] if took else max(s.bound_left[r, x] - 1, 0)
        if not keeps:
            bound = 0
        left = 0 if took else max(s.offer_left[r, x] - 1, 0)
        opened = False
        for i in range(n):
            opened = opened or p.act_offer[i, actions[i], x]
        if opened:
            left = max(left, p.deal_open[po, x])
        s.offer_left[r, x] = left
        s.in_deal[r, x] = keeps
        s.bound_left[r, x] = bound
        taken[x] = took


@_rule
def update_trust(s, p, r, stance, taken):
    """Beta-reputation update with forgetting from this month's stances received, plus the
    victim's unfavourable evidence about a deal's taker in the month it is taken.
    """
    n = stance.shape[0]
    pm, pe, ps = _row(p.memory, r), _row(p.evidence, r), _row(p.deal_shock, r)
    ev = p.evidence[pe]
    for i in range(n):
        m = p.memory[pm, i]
        for j in range(n):
            received = stance[j, i] * ev
            s.favourable[r, i, j] = m * s.favourable[r, i, j] + max(received, 0.0)
            s.unfavourable[r, i, j] = m * s.unfavourable[r, i, j] + max(-received, 0.0)
    for x in range(taken.shape[0]):
        v, a = p.deal_victim[x], p.deal_actor[x]
        s.unfavourable[r, v, a] += p.deal_shock[ps, x] * taken[x]


@_rule
def interest_overlap(s, p, r, w):
    """Salience- and stakes-weighted agreement of positions of each pair, into ``w.num``:
    sum_k num_k z_k / sum_k den_k z_k (0 where the weights vanish).
    """
    pairs = w.num.shape[0]
    po, pd = _row(p.num_by_stake, r), _row(p.den_by_stake, r)
    for q in range(pairs):
        w.num[q] = 0.0
        w.den[q] = 0.0
    for c in range(s.stakes.shape[1]):
        z = s.stakes[r, c]
        for q in range(pairs):
            w.num[q] += p.num_by_stake[po, c, q] * z
            w.den[q] += p.den_by_stake[pd, c, q] * z
    for q in range(pairs):
        den = w.den[q]
        w.num[q] = w.num[q] / den if den > 0 else 0.0


@_rule
def structural_balance(alignment, i, j):
    """Mean over third parties m of A_im A_mj ("the enemy of my enemy")."""
    n = alignment.shape[0]
    if n < 3:
        return 0.0
    total = 0.0
    for m in range(n):
        total += alignment[i, m] * alignment[m, j]
    return (total - 2.0 * alignment[i, j]) / (n - 2)


@_rule
def drift_target(s, p, r, stance, tau, w):
    """Where structural alignment is heading, per pair into ``w.target``: the weighted pulls
    of interest overlap, structural balance, this month's acts and mutual trust, plus the
    constant anchor.

    Alignment, its structure, mood and anchor are symmetric (scenarios, `Params.locate` and
    the rules make only symmetric ones), and so is the target: the kernel keeps one value per
    pair i < j (`sim.model.engine.pair_index` order) and the diagonal at 1.
    """
    pw, pc = _row(p.weights, r), _row(p.cap_share, r)
    w0, w1, w2, w3 = p.weights[pw, 0], p.weights[pw, 1], p.weights[pw, 2], p.weights[pw, 3]
    align = s.alignment[r]
    interest_overlap(s, p, r, w)
    for q in range(w.target.shape[0]):
        i, j = p.pair_i[q], p.pair_j[q]
        acts = p.cap_share[pc, i, j] * stance[i, j] + p.cap_share[pc, j, i] * stance[j, i]
        w.target[q] = (
            w0 * w.num[q]
            + w1 * structural_balance(align, i, j)
            + w2 * acts
            + w3 * (tau[i, j] + tau[j, i] - 1.0)
            + s.anchor[r, i, j]
        )


@_rule
def update_alignment(s, p, r, target):
    """Drift the structure toward ``target``, fade the mood, perceive clip(base + mood)."""
    n = s.mood.shape[1]
    rate = p.rate[_row(p.rate, r)]
    fade = p.atmosphere[_row(p.atmosphere, r)]
    for i in range(n):
        for j in range(n):
            s.mood[r, i, j] = s.mood[r, i, j] * fade
    for q in range(target.shape[0]):
        i, j = p.pair_i[q], p.pair_j[q]
        base = _clip(s.base[r, i, j] + rate * (target[q] - s.base[r, i, j]))
        s.base[r, i, j] = base
        s.base[r, j, i] = base
        a = _clip(base + s.mood[r, i, j])
        s.alignment[r, i, j] = a
        s.alignment[r, j, i] = a


@_rule
def update_stakes(s, p, r, actions):
    """Stakes relax to their baseline and are pushed by actions."""
    n = actions.shape[0]
    pp, pb, pr = _row(p.push, r), _row(p.stake_base, r), _row(p.persistence, r)
    for c in range(s.stakes.shape[1]):
        pushed = 0.0
        for i in range(n):
            pushed += p.push[pp, i, actions[i], c]
        base = p.stake_base[pb, c]
        z = base + p.persistence[pr, c] * (s.stakes[r, c] - base) + pushed
        s.stakes[r, c] = max(z, 0.0)


@_rule
def transition(s, p, r, actions, w):
    """Apply this month's chosen actions to replicate ``r``, in place: deals taken go to
    ``w.taken``, the new state's trust levels to ``w.tau``. The order keeps what each step
    reads: the drift reads last month's perceived alignment and stakes, the new stances and
    the updated trust.
    """
    n = actions.shape[0]
    stances(p, r, actions, w.stance)
    update_deals(s, p, r, actions, w.taken)
    update_trust(s, p, r, w.stance, w.taken)
    trust_levels(s, r, w.tau)
    drift_target(s, p, r, w.stance, w.tau, w)
    update_alignment(s, p, r, w.target)
    update_stakes(s, p, r, actions)
    for i in range(n):
        for j in range(n):
            s.stance[r, i, j] = w.stance[i, j]
        s.actions[r, i] = actions[i]


@_rule
def prepare(s, p, r, month, w):
    """The first half of a month: events fire (uniforms ``w.u``), then each actor weighs its
    actions (logit weights into ``w.weights``). ``w.tau`` must hold the state's trust levels
    (`trust_levels`; `transition` leaves them there for the next month).
    """
    n, amax = p.valid.shape
    fired_events(p, r, month, w.u, w.fired)
    apply_events(s, p, r, w.fired)
    expected_utility(s, p, r, w.tau, w)
    pt = _row(p.temp, r)
    for i in range(n):
        lo, hi = i * amax, (i + 1) * amax
        choice_weights(w.eu[lo:hi], p.temp[pt, i], w.weights[lo:hi])


@_rule
def initial_state(s, p, r, w):
    """Month 0 of replicate ``r``: declared alignment, trust and policies, and the anchor that
    makes the declared alignment a rest point of the drift given the month-1 pulls (see
    `sim.model.rules.initial_state`; the anchor's diagonal is 0, as it has no effect).
    """
    n, amax = p.valid.shape
    pa, pf, pu = _row(p.align0, r), _row(p.fav0, r), _row(p.unfav0, r)
    ps, pk, pt = _row(p.stance, r), _row(p.stake_base, r), _row(p.temp, r)
    for i in range(n):
        held = p.policy0[i]
        s.actions[r, i] = held
        for j in range(n):
            s.alignment[r, i, j] = p.align0[pa, i, j]
            s.base[r, i, j] = p.align0[pa, i, j]
            s.mood[r, i, j] = 0.0
            s.favourable[r, i, j] = p.fav0[pf, i, j]
            s.unfavourable[r, i, j] = p.unfav0[pu, i, j]
            s.stance[r, i, j] = p.stance[ps, i, held, j] if held >= 0 else 0.0
            s.anchor[r, i, j] = 0.0
    for c in range(s.stakes.shape[1]):
        s.stakes[r, c] = p.stake_base[pk, c]
    for x in range(s.offer_left.shape[1]):
        s.offer_left[r, x] = 0
        s.in_deal[r, x] = False
        s.bound_left[r, x] = 0
    trust_levels(s, r, w.tau)
    expected_utility(s, p, r, w.tau, w)
    for i in range(n):
        lo, hi = i * amax, (i + 1) * amax
        choice_weights(w.eu[lo:hi], p.temp[pt, i], w.weights[lo:hi])
        total = 0.0
        for a in range(amax):
            total += w.weights[lo + a]
        for j in range(n):  # the stance expected from the month-1 choice probabilities
            e = 0.0
            for a in range(amax):
                e += (w.weights[lo + a] / total) * p.stance[ps, i, a, j]
            w.stance[i, j] = e
    drift_target(s, p, r, w.stance, w.tau, w)
    for q in range(w.target.shape[0]):
        i, j = p.pair_i[q], p.pair_j[q]
        s.anchor[r, i, j] = p.align0[pa, i, j] - w.target[q]
        s.anchor[r, j, i] = s.anchor[r, i, j]


# --------------------------------------------------------------------------------------------
# Loops over replicates: what Python calls. `run` is the engine's; the others serve the Python
# interface below (the Mesa model, tests). All call the per-replicate rules above.


@_loop
def run(s, p, w, keys, first, last, iu, ju, alignment, actions, fired, offers):
    """Months ``first + 1`` to ``last`` of every replicate, in place, recording each month:
    ``alignment`` (R, T + 1, pairs) at rows months 0..T, ``actions``, ``fired`` and ``offers``
    at rows months 1..T (so row t holds month t + 1).
    """
    n, amax = p.valid.shape
    e = w.fired.shape[0]
    for r in range(keys.shape[0]):
        trust_levels(s, r, w.tau)
        for t in range(first, last):
            uniforms(keys[r], t, e + n, w.u)
            prepare(s, p, r, t + 1, w)
            for x in range(offers.shape[2]):
                offers[r, t, x] = s.offer_left[r, x] > 0
            for i in range(n):
                w.chosen[i] = choose(w.weights[i * amax : (i + 1) * amax], w.u[e + i])
            transition(s, p, r, w.chosen, w)
            for x in range(e):
                fired[r, t, x] = w.fired[x]
            for i in range(n):
                actions[r, t, i] = w.chosen[i]
            for q in range(iu.shape[0]):
                alignment[r, t + 1, q] = s.alignment[r, iu[q], ju[q]]


@_loop
def _initial_rows(s, p, w):
    for r in range(s.alignment.shape[0]):
        initial_state(s, p, r, w)


@_loop
def _prepare_rows(s, p, w, month, u_events, fired, weights):
    n, amax = p.valid.shape
    for r in range(s.alignment.shape[0]):
        for x in range(u_events.shape[1]):
            w.u[x] = u_events[r, x]
        trust_levels(s, r, w.tau)
        prepare(s, p, r, month, w)
        for x in range(fired.shape[1]):
            fired[r, x] = w.fired[x]
        for i in range(n):
            for a in range(amax):
                weights[r, i, a] = w.weights[i * amax + a]


@_loop
def _choose_rows(weights, u, out):
    for r in range(weights.shape[0]):
        for i in range(weights.shape[1]):
            out[r, i] = choose(weights[r, i], u[r, i])


@_loop
def _transition_rows(s, p, w, actions, taken):
    for r in range(s.alignment.shape[0]):
        transition(s, p, r, actions[r], w)
        for x in range(taken.shape[1]):
            taken[r, x] = w.taken[x]


# --------------------------------------------------------------------------------------------
# The rules' interface over `State`, as in `sim.model.rules` (pure: inputs are not changed).


def start(params: Params, replicates: int) -> State:
    """The state at month 0 for ``replicates`` rows (`sim.model.rules.initial_state`)."""
    return _state(start_buffers(params, replicates), 0)


def start_buffers(params: Params, replicates: int) -> Buffers:
    """`start` as the kernel's buffers, for `run`."""
    n, k, d = len(params.actors), len(params.issues), len(params.deals)
    square = (replicates, n, n)
    shapes = {"stakes": (replicates, k), "actions": (replicates, n)}
    shapes |= {f: (replicates, d) for f in ("offer_left", "in_deal", "bound_left")}
    buf = Buffers(*(np.zeros(shapes.get(f, square), dtype=t) for f, t in STATE))
    p = pack(params)
    _initial_rows(buf, p, work(p))
    return buf


def prepare_month(
    state: State, params: Params, u_events: np.ndarray
) -> tuple[State, np.ndarray, np.ndarray]:
    """Events, then logit weights (`sim.model.rules.prepare`): (state after events, fired
    events (R, E), choice weights (R, N, Amax)).
    """
    buf, p = buffers(state), pack(params)
    r = len(state.actions)
    fired = np.zeros((r, p.ev_month.shape[1]), dtype=bool)
    weights = np.zeros((r, *p.valid.shape))
    _prepare_rows(
        buf, p, work(p), state.month + 1, np.ascontiguousarray(u_events, np.float64), fired, weights
    )
    return _state(buf, state.month), fired, weights


def choose_actions(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One action per (replicate, actor) by inverse CDF (`sim.model.rules.choose`), (R, N)."""
    out = np.zeros(u.shape, dtype=np.int64)
    _choose_rows(
        np.ascontiguousarray(weights, np.float64), np.ascontiguousarray(u, np.float64), out
    )
    return out


def transition_month(state: State, params: Params, actions: np.ndarray) -> tuple[State, np.ndarray]:
    """Apply the chosen actions (`sim.model.rules.transition`): (next state, deals taken)."""
    buf, p = buffers(state), pack(params)
    taken = np.zeros((len(state.actions), p.deal_actor.shape[0]), dtype=bool)
    _transition_rows(buf, p, work(p), np.ascontiguousarray(actions, np.int64), taken)
    return _state(buf, state.month + 1), taken
