"""The model's rules: pure functions of (state, parameters, uniforms) over numpy arrays.

Every array has a leading replicate axis R; parameter arrays have a leading row axis of length
1 (shared) or R (one parameter set per replicate). Nothing here does I/O, keeps globals or draws
its own random numbers: the caller passes the month's uniforms. This is the readable
statement of the rules and the reference for the compiled kernel (`sim.model.kernel`), which
the array engine and the Mesa model both run: tests/test_kernel.py compares the two on random
states and parameters, so a change made here must be made there too (same function names).
Each rule is stated once here, to read, and once in the kernel, to run.
`engine.simulate_numpy` runs these functions for whole runs.

Equations are documented in docs/ODD.md (section "Submodels"); claim ids (C1-C16) refer to
the source article's claims as numbered in the project's domain notes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sim.model.params import Params


@dataclass(frozen=True)
class State:
    """The world at the start of a month, for R replicates."""

    month: int
    alignment: np.ndarray  # (R, N, N) symmetric in [-1, 1], diagonal 1: as actors perceive it
    base: np.ndarray  # (R, N, N) structural alignment, which drifts with interests and acts
    mood: np.ndarray  # (R, N, N) transient atmosphere from events (summits, snapbacks), fading
    favourable: np.ndarray  # (R, N, N) beta evidence: i's memory of j's cooperative acts
    unfavourable: np.ndarray  # (R, N, N) i's memory of j's hostile acts and betrayals
    stakes: np.ndarray  # (R, K) how much is at play on each issue this month
    stance: np.ndarray  # (R, N, N) last month's stance of i toward j, in [-1, 1]
    actions: np.ndarray  # (R, N) the policy each actor holds: last month's action (-1: none)
    anchor: np.ndarray  # (R, N, N) constant pull that makes the initial alignment a rest point
    offer_left: np.ndarray  # (R, D) int: months each deal's offer stays on the table
    in_deal: np.ndarray  # (R, D) bool: the deal is taken and its actor still keeps it
    bound_left: np.ndarray  # (R, D) int: months the taken deal still binds


def initial_state(params: Params, replicates: int) -> State:
    """The state at month 0 for ``replicates`` rows (params rows must be 1 or ``replicates``).

    Actors hold their declared starting policies. The structural alignment starts at rest:
    ``anchor`` is the constant pull that makes the declared alignment a fixed point of the drift
    given the month-1 pulls (interests, balance, trust, and the stances expected from month-1
    choice probabilities), so nothing moves until something in the world does. It stands for
    what the four pulls leave out (history, institutions, economic ties), measured by the
    November 2015 alignment it reproduces.
    """
    n, d = len(params.actors), len(params.deals)

    def grow(x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(x, (replicates, *x.shape[1:])).astype(np.float64, copy=True)

    align0 = grow(params.align0)
    policy = np.broadcast_to(params.policy0, (replicates, n)).astype(np.int64)
    held = np.maximum(policy, 0)
    stance = np.where((policy >= 0)[:, :, None], stances(params, held), 0.0)
    state = State(
        month=0,
        alignment=align0,
        base=align0.copy(),
        mood=np.zeros_like(align0),
        favourable=grow(params.fav0),
        unfavourable=grow(params.unfav0),
        stakes=grow(params.stake_base),
        stance=stance,
        actions=policy,
        anchor=np.zeros_like(align0),
        offer_left=np.zeros((replicates, d), dtype=np.int64),
        in_deal=np.zeros((replicates, d), dtype=bool),
        bound_left=np.zeros((replicates, d), dtype=np.int64),
    )
    probs = choice_probabilities(expected_utility(state, params), params.temp)
    expected = np.einsum("rna,rnaj->rnj", probs, _stance_table(params, replicates))
    tau = trust_level(state.favourable, state.unfavourable)
    target = drift_target(state, params, expected, tau)
    return replace(state, anchor=align0 - target)


def _stance_table(params: Params, replicates: int) -> np.ndarray:
    return np.broadcast_to(params.stance, (replicates, *params.stance.shape[1:]))


def trust_level(favourable: np.ndarray, unfavourable: np.ndarray) -> np.ndarray:
    """Expected reliability under the beta reputation model (Josang and Ismail 2002)."""
    return (favourable + 1.0) / (favourable + unfavourable + 2.0)


def fired_events(params: Params, month: int, u_events: np.ndarray) -> np.ndarray:
    """Which events occur in ``month`` (1 = first simulated month), (R, E) bool.

    Scheduled events fire on their month; random ones with their monthly hazard inside their
    [start, end] window.
    """
    scheduled = params.ev_month == month
    in_window = (params.ev_start <= month) & (month <= params.ev_end)
    random = (params.ev_month < 0) & in_window & (u_events < params.ev_hazard)
    return scheduled | random


def apply_events(state: State, params: Params, fired: np.ndarray) -> State:
    """Shock the alignment atmosphere and the issue stakes by the events that fired."""
    if fired.shape[1] == 0 or not fired.any():
        return state
    f = fired.astype(np.float64)
    n = state.alignment.shape[1]
    # (R, 1, E) @ (P, E, X): matmul broadcasts the row axis (P is 1 or R).
    ev_align = params.ev_align.reshape(params.ev_align.shape[0], -1, n * n)
    shock = (f[:, None, :] @ ev_align).reshape(-1, n, n)
    stakes = state.stakes + (f[:, None, :] @ params.ev_stakes)[:, 0, :]
    # Events change the atmosphere, not the structure (C1): the shock fades on its own.
    mood = state.mood + shock
    return replace(
        state,
        alignment=_clip_alignment(state.base + mood),
        mood=mood,
        stakes=np.maximum(stakes, 0.0),
        offer_left=_offer(state.offer_left, fired, params.ev_offer, params.deal_open),
    )


def _offer(left: np.ndarray, made: np.ndarray, offers: np.ndarray, months: np.ndarray):
    """Put offers on the table: ``made`` (R, X) flags items whose ``offers`` (X, D) open deals
    for ``months`` (P, D) months (an offer renewed while open starts its clock again).
    """
    if offers.shape[-1] == 0 or not made.any():
        return left
    opened = (made.astype(np.int64) @ offers.astype(np.int64)) > 0
    return np.where(opened, np.maximum(left, months), left)


TERMS = (
    "issues",
    "consistency",
    "reciprocity",
    "abandonment",
    "dependence",
    "commitment",
    "change",
)


def expected_utility(state: State, params: Params) -> np.ndarray:
    """Each actor's expected utility of each of its actions, (R, N, Amax): the sum of the
    named terms of `utility_terms` (impossible actions get -inf).

    EU_i(a) = sum_k sal_ik pos_ik effect_ak z_k                    issues (stakes-weighted)
            - w_align_i sum_j (s_aj - A_ij)^2                       consistency
            - w_recip_i sum_j (s_aj - S_ji)^2                       reciprocity
            + w_trust_i sum_j max(s_aj, 0) (2 tau_ij - 1)           abandonment (fear of)
            - w_auto_i sum_j max(s_aj, 0)^2                         dependence (cost of)
            + bias_a                                                commitment (declared)
            - inertia_i [a != held policy] - exit_cost [leaving a binding deal]   change

    Sums run over the other actors j; s_aj is the stance action a takes toward j. Consistency
    (Heider 1946; Jervis 1976) and reciprocity (Keohane 1986) are losses from acting unlike
    one's image of the partner or unlike the partner's last stance, so each is best at the
    stance that matches and hostility beyond it costs as much as friendliness beyond it: a
    hostile relationship no longer pays for more hostility. (The kernel computes the same sum
    with the squares expanded, 2 s (w_a A + w_r S) - (w_a + w_r) s^2 - const, which is
    faster; the two agree to rounding.)
    """
    named = utility_terms(state, params)
    eu = sum(named[t] for t in TERMS)
    return np.where(allowed(state, params), eu, -np.inf)


def utility_terms(state: State, params: Params) -> dict[str, np.ndarray]:
    """The named terms of each actor's expected utility (`TERMS`), each (R, N, Amax); they add
    up to `expected_utility` wherever an action is allowed.
    """
    s = np.broadcast_to(params.stance, (len(state.stakes), *params.stance.shape[1:]))
    off = 1.0 - np.eye(len(params.actors))  # sums over the other actors only
    a_ij = state.alignment[:, :, None, :]
    s_ji = np.swapaxes(state.stance, 1, 2)[:, :, None, :]
    tau = trust_level(state.favourable, state.unfavourable)[:, :, None, :]
    commit = np.maximum(s, 0.0)
    w = {k: getattr(params, f"w_{k}")[:, :, None] for k in RELATION}
    return {
        "issues": issue_terms(state, params).sum(-1),
        "consistency": -w["alignment"] * (((s - a_ij) ** 2) * off[:, None, :]).sum(-1),
        "reciprocity": -w["reciprocity"] * (((s - s_ji) ** 2) * off[:, None, :]).sum(-1),
        "abandonment": w["trust"] * (commit * (2.0 * tau - 1.0)).sum(-1),
        "dependence": -w["autonomy"] * (commit**2).sum(-1),
        "commitment": np.broadcast_to(params.bias, s.shape[:3]),
        "change": -change_cost(state, params),
    }


RELATION = ("alignment", "reciprocity", "trust", "autonomy")


def issue_terms(state: State, params: Params) -> np.ndarray:
    """The issues term of `utility_terms` split by issue, (R, N, Amax, K): what each action
    is worth to each actor on each issue this month, sal_ik pos_ik effect_ak z_k.
    """
    stakes = state.stakes[:, None, None, :]
    return (params.sal * params.pos)[:, :, None, :] * params.effect * stakes


def allowed(state: State, params: Params) -> np.ndarray:
    """Which actions each actor may choose this month, (R, N, Amax) bool.

    An action must exist and be available (regimes may switch it off); a deal's action is
    possible only while its offer is on the table or the deal is kept (C11: Russia can trade
    its Syria stance only when the West offers something for it).
    """
    ok = params.valid & (params.available > 0)
    if len(params.deals) == 0:
        return np.broadcast_to(ok, (len(state.stakes), *ok.shape[1:]))
    ok = np.broadcast_to(ok, (len(state.stakes), *ok.shape[1:])).copy()
    open_ = (state.offer_left > 0) | state.in_deal  # (R, D)
    for x in range(len(params.deals)):
        ok[:, params.deal_actor[x], params.deal_action[x]] &= open_[:, x]
    return ok


def change_cost(state: State, params: Params) -> np.ndarray:
    """Cost of leaving the policy one holds, (R, N, Amax).

    Policy inertia: changing course costs ``inertia`` (status-quo bias, Samuelson and
    Zeckhauser 1988; bureaucratic and domestic costs of reversal), so states keep a policy
    unless another is better by a margin. Leaving a deal while it still binds costs its
    ``exit_cost`` on top (the concessions and the partner's trust are lost).
    """
    amax = params.valid.shape[1]
    held = state.actions[:, :, None]
    switch = (held >= 0) & (np.arange(amax)[None, None, :] != held)
    cost = params.inertia[:, :, None] * switch
    for x in range(len(params.deals)):
        bound = state.in_deal[:, x] & (state.bound_left[:, x] > 0)
        if bound.any():
            i = params.deal_actor[x]
            leave = np.arange(amax) != params.deal_action[x]
            exit_cost = np.broadcast_to(params.deal_exit[:, x], bound.shape)
            cost[:, i, :] = cost[:, i, :] + (bound * exit_cost)[:, None] * leave[None, :]
    return cost


def choice_weights(eu: np.ndarray, temperature: np.ndarray) -> np.ndarray:
    """Unnormalised logit weights exp((EU(a) - max EU) / T); impossible actions weigh 0.

    Logit quantal response (McKelvey and Palfrey 1995). The maximum is taken with a short loop
    over the few action slots, which is much faster than a reduction over a tiny last axis.
    """
    z = eu / temperature[..., None]
    top = z[..., 0]
    for a in range(1, z.shape[-1]):
        top = np.maximum(top, z[..., a])
    return np.exp(z - top[..., None])


def choice_probabilities(eu: np.ndarray, temperature: np.ndarray) -> np.ndarray:
    """Logit choice probabilities: P(a) proportional to exp(EU(a) / T)."""
    w = choice_weights(eu, temperature)
    return w / w.sum(axis=-1, keepdims=True)


def choose(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Sample one action per (replicate, actor) by inverse CDF with uniforms ``u`` (R, N).

    ``weights`` may be probabilities or unnormalised weights: the threshold is ``u`` times the
    total, which also keeps the pick on an action with mass when rounding leaves the total a
    hair off 1 (trailing impossible actions add nothing to the cumulative sum).
    """
    cdf = np.cumsum(weights, axis=-1)
    threshold = u * cdf[..., -1]
    picked = np.zeros(u.shape, dtype=np.int64)
    for a in range(weights.shape[-1] - 1):
        picked += cdf[..., a] <= threshold
    return picked


def stances(params: Params, actions: np.ndarray) -> np.ndarray:
    """Stance of each actor toward each other actor implied by the chosen actions, (R, N, N)."""
    return _select(params.stance, actions)


def _select(table: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """Rows of a per-action table (P, N, A, X) for each actor's chosen action: (R, N, X)."""
    n = actions.shape[1]
    if table.shape[0] == 1:
        return table[0][np.arange(n)[None, :], actions]
    return table[np.arange(len(actions))[:, None], np.arange(n)[None, :], actions]


def interest_overlap(params: Params, stakes: np.ndarray) -> np.ndarray:
    """Salience- and stakes-weighted agreement of positions, (R, N, N) in [-1, 1].

    O_ij = sum_k w_ijk (1 - |pos_ik - pos_jk|) / sum_k w_ijk,  w_ijk = sqrt(sal_ik sal_jk) z_k.
    """
    d = params.derived
    n = params.pos.shape[1]
    if d.overlap_num.shape[0] == 1:  # one shared table: a single (R, K) x (K, N*N) product
        num = (stakes @ d.overlap_num[0].T).reshape(-1, n, n)
        den = (stakes @ d.overlap_den[0].T).reshape(-1, n, n)
    else:
        num = np.einsum("rpk,rk->rp", d.overlap_num, stakes).reshape(-1, n, n)
        den = np.einsum("rpk,rk->rp", d.overlap_den, stakes).reshape(-1, n, n)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def structural_balance(alignment: np.ndarray) -> np.ndarray:
    """Mean over third parties m of A_im A_mj ("the enemy of my enemy"; Marvel et al. 2011)."""
    n = alignment.shape[-1]
    if n < 3:
        return np.zeros_like(alignment)
    # The diagonal is 1, so A@A counts m = i and m = j as A_ij each: remove them.
    return (alignment @ alignment - 2.0 * alignment) / (n - 2)


def update_trust(
    state: State, params: Params, stance: np.ndarray, taken: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Beta-reputation update with forgetting: i observes j's stance toward i this month.

    fav_ij <- m_i fav_ij + e max(S_ji, 0);  unfav_ij <- m_i unfav_ij + e max(-S_ji, 0)
    plus ``trust_shock`` unfavourable evidence for a deal's victim about its taker in the month
    the deal is taken (C3, C4: memory decays slowly, m close to 1, and is refreshed by a new
    betrayal). ``taken`` is (R, D).
    """
    # received[r, i, j] = S_ji, weighted by how much one month's stance counts as evidence
    received = np.swapaxes(stance, 1, 2) * params.evidence[:, None, None]
    m = params.memory[:, :, None]
    fav = m * state.favourable + np.maximum(received, 0.0)
    unfav = m * state.unfavourable + np.maximum(-received, 0.0)
    for x in range(taken.shape[1]):
        shock = np.broadcast_to(params.deal_shock[:, x], taken[:, x].shape)
        unfav[:, params.deal_victim[x], params.deal_actor[x]] += shock * taken[:, x]
    return fav, unfav


def drift_target(state: State, params: Params, stance: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Where structural alignment is heading, (R, N, N): the weighted mean
    (overlap O_ij + balance B_ij + action C_ij + trust M_ij) / (sum of the four weights)
    of four pulls, each in [-1, 1], plus the state's constant ``anchor``.

    O interest overlap (C2, C9); B structural balance (C7, C16); C capability-weighted mean of
    the stances the two took toward each other this month; M = tau_ij + tau_ji - 1 mutual trust
    (C3). The pulls are computed from the perceived alignment.
    """
    share = params.derived.cap_share
    acts = share * stance + np.swapaxes(share, 1, 2) * np.swapaxes(stance, 1, 2)
    w = params.derived.weights[:, :, None, None]  # (P, 4, 1, 1)
    return (
        w[:, 0] * interest_overlap(params, state.stakes)
        + w[:, 1] * structural_balance(state.alignment)
        + w[:, 2] * acts
        + w[:, 3] * (tau + np.swapaxes(tau, 1, 2) - 1.0)
        + state.anchor
    )


def update_alignment(
    state: State, params: Params, stance: np.ndarray, tau: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monthly alignment drift toward `drift_target`; returns (base, mood, alignment).

    Structural alignment moves toward the target, base_ij <- base_ij + rate (target_ij -
    base_ij), the event atmosphere fades, mood <- atmosphere * mood, and the alignment actors
    perceive is clip(base + mood). The pulls are bounded, so alignment cannot run away to +-1
    by feedback alone.
    """
    target = drift_target(state, params, stance, tau)
    base = state.base + params.rate[:, None, None] * (target - state.base)
    mood = state.mood * params.atmosphere[:, None, None]
    return _clip_alignment(base), mood, _clip_alignment(base + mood)


def update_stakes(state: State, params: Params, actions: np.ndarray) -> np.ndarray:
    """Stakes relax to their baseline and are pushed by actions (e.g. an offer on Ukraine)."""
    pushed = _select(params.push, actions).sum(axis=1)
    z = params.stake_base + params.persistence * (state.stakes - params.stake_base) + pushed
    return np.maximum(z, 0.0)


def _clip_alignment(a: np.ndarray) -> np.ndarray:
    a = np.minimum(np.maximum(a, -1.0), 1.0)  # np.clip's dispatch costs more on small arrays
    n = a.shape[-1]
    a[:, np.arange(n), np.arange(n)] = 1.0
    return a


def update_deals(
    state: State, params: Params, actions: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Deals after this month's choices: (offer_left, in_deal, bound_left, taken), each (R, D).

    Choosing a deal's action while not in it takes the deal: the offer is used up and the deal
    binds for ``binds`` months. Keeping the action keeps the deal; any other action ends it.
    Offers left on the table run down by a month; actions may put new ones on the table for
    next month (a US offer to Russia).
    """
    if len(params.deals) == 0:
        return state.offer_left, state.in_deal, state.bound_left, state.in_deal
    keeps = actions[:, params.deal_actor] == params.deal_action  # (R, D)
    taken = keeps & ~state.in_deal
    binds = np.broadcast_to(params.deal_binds, taken.shape)
    bound = np.where(taken, binds, np.maximum(state.bound_left - 1, 0))
    bound = np.where(keeps, bound, 0)
    left = np.where(taken, 0, np.maximum(state.offer_left - 1, 0))
    n, amax, d = params.act_offer.shape
    made = np.zeros((len(actions), n * amax), dtype=bool)
    made[np.arange(len(actions))[:, None], np.arange(n) * amax + actions] = True
    left = _offer(left, made, params.act_offer.reshape(n * amax, d), params.deal_open)
    return left, keeps, bound, taken


def transition(state: State, params: Params, actions: np.ndarray) -> tuple[State, np.ndarray]:
    """Apply this month's chosen actions; return the next state and which deals were taken
    this month, (R, D) bool.
    """
    stance = stances(params, actions)
    offer_left, in_deal, bound_left, taken = update_deals(state, params, actions)
    fav, unfav = update_trust(state, params, stance, taken)
    tau = trust_level(fav, unfav)
    base, mood, alignment = update_alignment(state, params, stance, tau)
    stakes = update_stakes(state, params, actions)
    nxt = replace(
        state,
        month=state.month + 1,
        alignment=alignment,
        base=base,
        mood=mood,
        favourable=fav,
        unfavourable=unfav,
        stakes=stakes,
        stance=stance,
        actions=actions,
        offer_left=offer_left,
        in_deal=in_deal,
        bound_left=bound_left,
    )
    return nxt, taken


def prepare(
    state: State, params: Params, u_events: np.ndarray
) -> tuple[State, np.ndarray, np.ndarray]:
    """The first half of a month: events fire, then each actor weighs its actions.

    Returns (state after events, fired events (R, E), logit choice weights (R, N, Amax)). The
    array engine samples every actor's choice from the weights at once; the Mesa model lets
    each agent sample its own. `transition` then applies the choices.
    """
    fired = fired_events(params, state.month + 1, u_events)
    state = apply_events(state, params, fired)
    weights = choice_weights(expected_utility(state, params), params.temp)
    return state, fired, weights


def step(state: State, params: Params, u: np.ndarray) -> tuple[State, np.ndarray, np.ndarray]:
    """One month: events, choices, transition. ``u`` is (R, E + N) uniforms for this month.

    Returns (next state, fired events (R, E), chosen actions (R, N)). ``params`` must already
    hold the regimes in force this month (`Params.at_month`).
    """
    e = len(params.events)
    state, fired, weights = prepare(state, params, u[:, :e])
    actions = choose(weights, u[:, e:])
    nxt, _ = transition(state, params, actions)
    return nxt, fired, actions
