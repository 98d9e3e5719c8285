"""The measured core: a state-space model of each state's UN General Assembly ideal point.

Each state the measurement declaration names is observed once a session, with the data's own
measurement error (its 90% interval read as a normal standard deviation ``sd[s, t]``), plus a
shared agenda noise ``tau`` (the year's votes, beyond the estimate's own uncertainty)::

    y[s, t] = level[s, t] + e[s, t],             e ~ Normal(0, sd[s, t]^2 + tau^2)

- an actor that is one state has a local level (a random walk with its own variance q[s]);
- an actor that is a bloc of states (the six Gulf Cooperation Council members) has a bloc
  level (a random walk, variance q_bloc) and each member a deviation from it that decays
  toward zero (an AR(1) with a shared persistence phi and variance q_dev): the members are
  pooled toward the bloc mean rather than fitted one by one.

Positions are forecast jointly (a multivariate normal of every state's measured ideal point,
future measurement error included, at the members' mean ``sd``); an actor's position is the mean
of its states' (as `measurement` defines it), and a pair's distance is derived from the two
positions, so the six distances share their three degrees of freedom instead of being modelled
as if independent. Fitted by maximum likelihood with statsmodels' Kalman filter; parameters are
plugged in (their uncertainty is not propagated). The data come from `unga.load`, whose cutoff
drops every later session before it is parsed: the core sees nothing after its origin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from statsmodels.tsa.statespace.initialization import Initialization
from statsmodels.tsa.statespace.mlemodel import MLEModel

from sim.validation.data import unga

Z90 = 1.6448536269514722


class Positions(MLEModel):
    """Local levels for single states, a pooled bloc level plus decaying deviations for blocs.

    ``endog`` (T, K) holds the ideal points (NaN where missing), ``sd`` (T, K) their measurement
    standard deviations, ``groups`` the column indices of each actor's states.
    """

    def __init__(self, endog: np.ndarray, sd: np.ndarray, groups: Sequence[Sequence[int]]):
        self.groups = [tuple(g) for g in groups]
        k_states = sum(1 if len(g) == 1 else len(g) + 1 for g in self.groups)
        super().__init__(endog, k_states=k_states, k_posdef=k_states)
        self.sd2 = np.where(np.isnan(sd), 1.0, sd) ** 2
        k = endog.shape[1]
        design = np.zeros((k, k_states))
        self.deviations: list[int] = []  # state indices that decay (members' deviations)
        self.names: list[str] = []
        init = Initialization(k_states)
        pos = 0
        for gi, g in enumerate(self.groups):
            if len(g) == 1:
                design[g[0], pos] = 1.0
                init.set(pos, "diffuse")
                self.names.append(f"q.{gi}")
                pos += 1
                continue
            design[list(g), pos] = 1.0
            init.set(pos, "diffuse")
            for m, col in enumerate(g):
                design[col, pos + 1 + m] = 1.0
                self.deviations.append(pos + 1 + m)
            self.names += [f"q_bloc.{gi}", f"q_dev.{gi}", f"phi.{gi}"]
            pos += len(g) + 1
        for s in self.deviations:
            init.set(s, "known", constant=np.zeros(1), stationary_cov=np.eye(1) * 0.05)
        self.names.append("tau2")
        self["design"] = design
        self["selection"] = np.eye(k_states)
        self["transition"] = np.eye(k_states)
        self["obs_cov"] = np.zeros((k, k, endog.shape[0]))
        self.ssm.initialization = init

    @property
    def param_names(self) -> list[str]:
        """Variances (q.*, q_bloc.*, q_dev.*, tau2) and persistences (phi.*)."""
        return list(self.names)

    @property
    def start_params(self) -> np.ndarray:
        """A small drift, a moderate persistence and a small agenda noise."""
        return np.array([0.5 if n.startswith("phi") else 0.01 for n in self.names])

    def transform_params(self, unconstrained: np.ndarray) -> np.ndarray:
        """Variances positive, persistences in (0, 1)."""
        u = np.asarray(unconstrained, dtype=float)
        phi = np.array([n.startswith("phi") for n in self.names])
        return np.where(phi, 1 / (1 + np.exp(-u)), np.exp(u))

    def untransform_params(self, constrained: np.ndarray) -> np.ndarray:
        """The inverse of `transform_params`."""
        c = np.asarray(constrained, dtype=float)
        phi = np.array([n.startswith("phi") for n in self.names])
        return np.where(phi, np.log(c / (1 - c)), np.log(c))

    def update(self, params, **kwargs):
        """Place the variances and persistences in the state-space matrices."""
        params = super().update(params, **kwargs)
        p = dict(zip(self.names, params, strict=True))
        dtype = np.asarray(params).dtype  # complex while statsmodels takes complex-step derivatives
        q = np.zeros(self.k_states, dtype=dtype)
        transition = np.eye(self.k_states, dtype=dtype)
        pos = 0
        for gi, g in enumerate(self.groups):
            if len(g) == 1:
                q[pos] = p[f"q.{gi}"]
                pos += 1
                continue
            q[pos] = p[f"q_bloc.{gi}"]
            members = slice(pos + 1, pos + 1 + len(g))
            q[members] = p[f"q_dev.{gi}"]
            transition[members, members] = np.eye(len(g)) * p[f"phi.{gi}"]
            pos += len(g) + 1
        self["state_cov"] = np.diag(q)
        self["transition"] = transition
        k = self.k_endog
        obs = np.zeros((k, k, self.nobs), dtype=dtype)
        idx = np.arange(k)
        obs[idx, idx, :] = (self.sd2 + p["tau2"]).T
        self["obs_cov"] = obs


@dataclass(frozen=True)
class CoreFit:
    """The core fitted up to a cutoff: what a forecast needs, and the fitted parameters."""

    actors: tuple[str, ...]
    columns: tuple[str, ...]  # state codes, in the model's column order
    members: Mapping[str, tuple[int, ...]]  # actor -> its columns
    until: int
    state: np.ndarray  # filtered state mean at the cutoff
    state_cov: np.ndarray  # its covariance
    transition: np.ndarray
    state_cov_step: np.ndarray  # covariance of one year's state innovation
    design: np.ndarray
    future_obs_var: np.ndarray  # (K,) variance of a future session's measured ideal point
    params: Mapping[str, float]

    def position_moments(self, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """Mean (K,) and covariance (K, K) of every state's measured ideal point ``horizon``
        sessions after the cutoff.
        """
        a, p = self.state, self.state_cov
        for _ in range(horizon):
            a = self.transition @ a
            p = self.transition @ p @ self.transition.T + self.state_cov_step
        mean = self.design @ a
        cov = self.design @ p @ self.design.T + np.diag(self.future_obs_var)
        return mean, cov

    def distances(
        self, pairs: Sequence[tuple[str, str]], horizon: int, samples: int, seed: int
    ) -> np.ndarray:
        """Draws (P, samples) of each pair's distance ``horizon`` sessions after the cutoff."""
        mean, cov = self.position_moments(horizon)
        gen = np.random.default_rng([seed, self.until, horizon])
        draws = gen.multivariate_normal(mean, cov, size=samples, method="cholesky")
        pos = {a: draws[:, list(cols)].mean(axis=1) for a, cols in self.members.items()}
        return np.stack([np.abs(pos[a] - pos[b]) for a, b in pairs])


def _matrices(
    data: unga.Data, states: Mapping[str, tuple[str, ...]], first_year: int
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    columns = tuple(c for codes in states.values() for c in codes)
    t = data.table[data.table.iso3c.isin(columns) & (data.table.year >= first_year)]
    years = range(first_year, data.until + 1)
    wide = t.pivot(index="year", columns="iso3c", values="ideal_point")
    wide = wide.reindex(index=years, columns=list(columns))
    sd = t.assign(sd=(t.q95 - t.q05) / (2 * Z90)).pivot(index="year", columns="iso3c", values="sd")
    sd = sd.reindex(index=years, columns=list(columns))
    return columns, wide.to_numpy(dtype=float), sd.to_numpy(dtype=float)


def fit(data: unga.Data, states: Mapping[str, tuple[str, ...]], first_year: int) -> CoreFit:
    """Fit the core to the sessions ``first_year`` .. ``data.until`` of the declared states."""
    columns, endog, sd = _matrices(data, states, first_year)
    groups, members, col = [], {}, 0
    for actor, codes in states.items():
        members[actor] = tuple(range(col, col + len(codes)))
        groups.append(members[actor])
        col += len(codes)
    model = Positions(endog, sd, groups)
    res = model.fit(disp=False, maxiter=500, method="lbfgs")
    params = dict(zip(model.param_names, map(float, res.params), strict=True))
    model.update(res.params)
    future = np.nanmean(sd**2, axis=0) + params["tau2"]
    return CoreFit(
        actors=tuple(states),
        columns=columns,
        members=members,
        until=data.until,
        state=np.asarray(res.filtered_state[:, -1]),
        state_cov=np.asarray(res.filtered_state_cov[:, :, -1]),
        transition=np.asarray(model["transition"]),
        state_cov_step=np.asarray(model["state_cov"]),
        design=np.asarray(model["design"]),
        future_obs_var=future,
        params=params,
    )
