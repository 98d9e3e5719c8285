"""The model's rules: pure functions of (state, parameters, uniforms) over numpy arrays.

Every array has a leading replicate axis R; parameter arrays have a leading row axis of length
1 (shared) or R (one parameter set per replicate). Nothing here does I/O, keeps globals or draws
its own random numbers: the caller passes the month's uniforms. Both the array engine
(`sim.engine`) and the Mesa model (`sim.model`) run these functions, so they cannot disagree.

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
    actions: np.ndarray  # (R, N) last month's action index per actor (-1 before month 1)


def initial_state(params: Params, replicates: int) -> State:
    """The state at month 0 for ``replicates`` rows (params rows must be 1 or ``replicates``)."""
    n = len(params.actors)

    def grow(x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(x, (replicates, *x.shape[1:])).astype(np.float64, copy=True)

    align0 = grow(params.align0)
    return State(
        month=0,
        alignment=align0,
        base=align0.copy(),
        mood=np.zeros_like(align0),
        favourable=grow(params.fav0),
        unfavourable=grow(params.unfav0),
        stakes=grow(params.stake_base),
        stance=np.zeros((replicates, n, n)),
        actions=np.full((replicates, n), -1, dtype=np.int64),
    )


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
    )


def expected_utility(state: State, params: Params) -> np.ndarray:
    """Each actor's expected utility of each of its actions, (R, N, Amax).

    EU_i(a) = sum_k sal_ik pos_ik effect_ak z_k                      (issues, stakes-weighted)
            + sum_j stance_aj (w_align_i A_ij + w_recip_i S_ji)        (relations, reciprocity)
            + w_trust_i sum_j max(stance_aj, 0) (2 tau_ij - 1)         (fear of abandonment)
            - w_autonomy_i sum_j max(stance_aj, 0)^2                   (cost of dependence)
            + bias_a                                                   (standing policy)
    Beliefs: others repeat last month's stance (S_ji); trust tau_ij is i's estimate of j's
    reliability. The cost of dependence is convex in the commitment to each partner (Snyder
    1984: the risk of entrapment rises with the strength of one's commitment; C5, C6: Iran
    limits its dependence on any one power), so spreading ties thin costs less than tying
    oneself to one partner. It depends on the action only, so it is a constant of the run
    (`Derived.dependence`). A bias is a declared policy commitment of the scenario (e.g. a US
    administration's line on Iran). Slots for actions an actor does not have get -inf.
    """
    d = params.derived
    issue_term = _per_actor(d.issue_weight, state.stakes[:, None, :])
    tau = trust_level(state.favourable, state.unfavourable)
    # Per unit of stance toward j: value of friendliness (alignment, reciprocity); per unit of
    # commitment (positive stance): the partner's expected reliability.
    per_stance = params.w_alignment[:, :, None] * state.alignment + params.w_reciprocity[
        :, :, None
    ] * np.swapaxes(state.stance, 1, 2)
    per_commit = params.w_trust[:, :, None] * (2.0 * tau - 1.0)
    relation = np.concatenate([per_stance, per_commit], axis=-1)  # (R, N, 2N)
    eu = issue_term + _per_actor(d.stance_commit, relation) - d.dependence + params.bias
    return np.where(params.valid, eu, -np.inf)


def _per_actor(table: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """out[r, n, a] = sum_x table[p, n, a, x] vec[r, n or 0, x], for tables of (P, N, A, X)."""
    if table.shape[0] == 1:
        # One shared table: N small matrix products over all replicates at once are much
        # faster than a batched matmul of R x N tiny products.
        n_vec = vec.shape[1]
        return np.stack(
            [vec[:, n if n_vec > 1 else 0] @ table[0, n].T for n in range(table.shape[1])],
            axis=1,
        )
    if vec.shape[1] == 1:
        return np.einsum("rnax,rx->rna", table, vec[:, 0])
    return np.einsum("rnax,rnx->rna", table, vec)


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
    state: State, params: Params, stance: np.ndarray, betrayed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Beta-reputation update with forgetting: i observes j's stance toward i this month.

    fav_ij <- m_i fav_ij + e max(S_ji, 0);  unfav_ij <- m_i unfav_ij + e max(-S_ji, 0)
    plus ``trust_shock`` unfavourable evidence for the victim about the betrayer on betrayal
    (C3, C4: memory decays slowly, m close to 1, and is refreshed by new betrayals).
    """
    # received[r, i, j] = S_ji, weighted by how much one month's stance counts as evidence
    received = np.swapaxes(stance, 1, 2) * params.evidence[:, None, None]
    m = params.memory[:, :, None]
    fav = m * state.favourable + np.maximum(received, 0.0)
    unfav = m * state.unfavourable + np.maximum(-received, 0.0)
    unfav[:, params.victim, params.betrayer] += params.trust_shock * betrayed
    return fav, unfav


def update_alignment(
    state: State, params: Params, stance: np.ndarray, tau: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Monthly alignment drift toward a bounded target; returns (base, mood, alignment).

    Structural alignment moves toward a target, base_ij <- base_ij + rate (target_ij - base_ij),
    the event atmosphere fades, mood <- atmosphere * mood, and the alignment actors perceive is
    clip(base + mood). The target is the weighted mean
    (overlap O_ij + balance B_ij + action C_ij + trust M_ij) / (overlap + balance + action + trust)
    of four pulls, each in [-1, 1]: O interest overlap (C2, C9); B structural balance (C7, C16);
    C capability-weighted mean of the stances the two took toward each other this month;
    M = tau_ij + tau_ji - 1 mutual trust (C3). Being a mean of bounded pulls, the target stays
    in [-1, 1], so alignment cannot run away to +-1 by feedback alone. The pulls are computed
    from the perceived alignment.
    """
    a = state.alignment
    share = params.derived.cap_share
    acts = share * stance + np.swapaxes(share, 1, 2) * np.swapaxes(stance, 1, 2)
    w = params.derived.weights[:, :, None, None]  # (P, 4, 1, 1)
    target = (
        w[:, 0] * interest_overlap(params, state.stakes)
        + w[:, 1] * structural_balance(a)
        + w[:, 2] * acts
        + w[:, 3] * (tau + np.swapaxes(tau, 1, 2) - 1.0)
    )
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


def transition(state: State, params: Params, actions: np.ndarray) -> tuple[State, np.ndarray]:
    """Apply this month's chosen actions; return the next state and who-betrayed flags (R,)."""
    stance = stances(params, actions)
    betrayed = actions[:, params.betrayer] == params.betrayal_action
    fav, unfav = update_trust(state, params, stance, betrayed)
    tau = trust_level(fav, unfav)
    base, mood, alignment = update_alignment(state, params, stance, tau)
    stakes = update_stakes(state, params, actions)
    nxt = State(
        month=state.month + 1,
        alignment=alignment,
        base=base,
        mood=mood,
        favourable=fav,
        unfavourable=unfav,
        stakes=stakes,
        stance=stance,
        actions=actions,
    )
    return nxt, betrayed


def step(state: State, params: Params, u: np.ndarray) -> tuple[State, np.ndarray, np.ndarray]:
    """One month: events, choices, transition. ``u`` is (R, E + N) uniforms for this month.

    Returns (next state, fired events (R, E), chosen actions (R, N)).
    """
    e = len(params.events)
    fired = fired_events(params, state.month + 1, u[:, :e])
    state = apply_events(state, params, fired)
    weights = choice_weights(expected_utility(state, params), params.temp)
    actions = choose(weights, u[:, e:])
    nxt, _ = transition(state, params, actions)
    return nxt, fired, actions
