"""Tests of sim.landscape (Axelrod and Bennett 1993 landscape theory of aggregation)."""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.errors import SimInputError
from sim.model import landscape as L

matplotlib.use("Agg")


# ------------------------------------------------------------------------------------------
# Brute force in plain Python, straight from the paper's definitions.


def brute_energy(x, s, p):
    n = len(s)
    return sum(s[i] * s[j] * p[i][j] * (x[i] != x[j]) for i in range(n) for j in range(i + 1, n))


def canonical(x):
    return tuple(x) if x[0] == 0 else tuple(1 - v for v in x)


def brute_configs(n):
    """All configurations with actor 0 in coalition 0, in configurations() order."""
    out = []
    for k in range(2 ** (n - 1)):
        out.append((0, *((k >> (j - 1)) & 1 for j in range(1, n))))
    return out


def neighbours(x):
    """Single-actor switches, in actor order, in canonical form."""
    for i in range(len(x)):
        y = list(x)
        y[i] = 1 - y[i]
        yield canonical(y)


def brute_landscape(s, p):
    """(energies by config, {minimum: basin}) by steepest descent in Python."""
    cfgs = brute_configs(len(s))
    e = {x: brute_energy(x, s, p) for x in cfgs}
    tol = 1e-9 * sum(
        abs(s[i] * s[j] * p[i][j]) for i, j in itertools.combinations(range(len(s)), 2)
    )

    def step(x):
        nb = list(neighbours(x))
        low = min(e[y] for y in nb)
        if low < e[x] - tol:
            return next(y for y in nb if e[y] <= low + tol)
        return x

    basins = {}
    for x in cfgs:
        while (y := step(x)) != x:
            x = y
        basins[x] = basins.get(x, 0) + 1
    return e, basins


def random_case(rng, n):
    s = rng.uniform(0, 2, n)
    p = rng.uniform(-1, 1, (n, n))
    p = (p + p.T) / 2
    np.fill_diagonal(p, rng.uniform(-5, 5, n))  # the diagonal must be ignored
    return s, p


# ------------------------------------------------------------------------------------------
# Configurations


def test_configurations_small():
    assert L.configurations(1).tolist() == [[False]]
    # row k: actor j >= 1 in coalition 1 iff bit j-1 of k
    assert L.configurations(3).astype(int).tolist() == [[0, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 1]]
    assert [tuple(r) for r in L.configurations(6).astype(int)] == brute_configs(6)


def test_configurations_20_vectorised():
    x = L.configurations(20)
    assert x.shape == (2**19, 20) and x.dtype == bool
    assert not x[:, 0].any()
    codes = x[:, 1:].astype(np.int64) @ (1 << np.arange(19))
    assert np.array_equal(codes, np.arange(2**19))  # all distinct, in order


@pytest.mark.parametrize("n", [0, -1, L.MAX_ACTORS + 1])
def test_configurations_bad_n(n):
    with pytest.raises(ValueError):
        L.configurations(n)


# ------------------------------------------------------------------------------------------
# Hand-worked cases


def test_three_actors_by_hand():
    # sizes s = (1, 2, 3); p01 = +1, p02 = -1, p12 = -0.5
    # weights W = s_i s_j p_ij: W01 = 2, W02 = -3, W12 = -3
    # configurations (actor 0 in coalition 0), energy = sum of W over separated pairs:
    #   k0 (0,0,0): nobody separated                      E = 0
    #   k1 (0,1,0): 01, 12 separated: 2 - 3               E = -1
    #   k2 (0,0,1): 02, 12 separated: -3 - 3              E = -6
    #   k3 (0,1,1): 01, 02 separated: 2 - 3               E = -1
    # Optimum k2: {0, 1} against {2}. Neighbours of k2 (switch 0 -> mirror of (1,0,1) = k1;
    # switch 1 -> k3; switch 2 -> k0) all have higher energy, so k2 is stable. k0 moves to k2
    # (switch 2), k1 to k2 (switch 0: (1,1,0) mirrors to (0,0,1)), k3 to k2 (switch 1): the
    # only minimum, with a basin of all 4 configurations.
    s, p = [1, 2, 3], [[0, 1, -1], [1, 0, -0.5], [-1, -0.5, 0]]
    assert L.energies(s, p) == pytest.approx([0, -1, -6, -1])
    assert L.best_configuration(s, p).tolist() == [0, 0, 1]
    (m,) = L.local_minima(s, p)
    assert (m.labels.tolist(), m.energy, m.basin, m.index) == ([0, 0, 1], -6, 4, 2)


def test_frustrated_triangle_by_hand():
    # Three equal actors who all dislike each other (W_ij = -1): no configuration satisfies
    # everyone. k0 (0,0,0) = 0; every 2-against-1 split separates two pairs: E = -2.
    # k1, k2, k3 tie as optima; the tie goes to the first in order, k1 = (0,1,0).
    # Each split is stable (switching any actor gives another split or k0). From k0 all three
    # neighbours tie at -2; steepest descent takes the lowest actor index, actor 0, whose
    # switch (1,0,0) mirrors to k3 = (0,1,1). Basins: k1 {k1}, k2 {k2}, k3 {k3, k0}.
    s, p = np.ones(3), -np.ones((3, 3))
    assert L.energies(s, p) == pytest.approx([0, -2, -2, -2])
    assert L.best_configuration(s, p).tolist() == [0, 1, 0]
    minima = L.local_minima(s, p)
    assert [(m.index, m.energy, m.basin) for m in minima] == [(1, -2, 1), (2, -2, 1), (3, -2, 2)]
    r = L.analyse(s, p)
    assert r.optimum == 0 and r.optimum_labels.tolist() == [0, 1, 0]


def four_actor_case():
    # Two cleavages: {A,B} vs {C,D} weighs 0.6, {A,D} vs {B,C} weighs 0.4; p_ij adds +w for a
    # cleavage on which i and j agree and -w for one on which they differ:
    #   AB = CD = 0.6 - 0.4 = 0.2;  AD = BC = -0.6 + 0.4 = -0.2;  AC = BD = -1.0
    p = np.zeros((4, 4))
    for (i, j), v in {(0, 1): 0.2, (2, 3): 0.2, (0, 3): -0.2, (1, 2): -0.2}.items():
        p[i, j] = p[j, i] = v
    p[0, 2] = p[2, 0] = p[1, 3] = p[3, 1] = -1.0
    return np.ones(4), p


def test_four_actors_by_hand():
    # Sizes 1. Bits: B = bit 0, C = bit 1, D = bit 2 (A always in coalition 0).
    #   k0 {ABCD}       : 0
    #   k1 B alone      : AB + BC + BD = 0.2 - 0.2 - 1          = -1.0
    #   k2 C alone      : AC + BC + CD = -1 - 0.2 + 0.2         = -1.0
    #   k3 {AD} v {BC}  : AB + AC + BD + CD = 0.2 - 1 - 1 + 0.2 = -1.6
    #   k4 D alone      : AD + BD + CD = -0.2 - 1 + 0.2         = -1.0
    #   k5 {AC} v {BD}  : AB + AD + BC + CD = 0.2-0.2-0.2+0.2   = 0.0
    #   k6 {AB} v {CD}  : AC + AD + BC + BD = -1-0.2-0.2-1      = -2.4
    #   k7 A alone      : AB + AC + AD = 0.2 - 1 - 0.2          = -1.0
    # Switching A maps k -> k ^ 7 (mirror image), B k ^ 1, C k ^ 2, D k ^ 4.
    # k6: neighbours k1, k7, k4, k2 all at -1.0 -> stable (the optimum).
    # k3: neighbours k4, k2, k1, k7 all at -1.0 -> stable (a second, worse minimum).
    # Steepest descent (neighbours listed in actor order A, B, C, D):
    #   k0 -> [k7, k1, k2, k4] all -1.0, tie -> A -> k7 -> [k0, k6, k5, k3] -> k6
    #   k1 -> [k6, k0, k3, k5] -> k6;  k2 -> [k5, k3, k0, k6] -> k6;  k4 -> [k3, k5, k6, k0] -> k6
    #   k5 -> [k2, k4, k7, k1] all -1.0, tie -> A -> k2 -> k6;  k7 -> k6
    # Basins: k6 gets 7 configurations, k3 only itself.
    s, p = four_actor_case()
    assert L.energies(s, p) == pytest.approx([0, -1, -1, -1.6, -1, 0, -2.4, -1])
    assert L.best_configuration(s, p).tolist() == [0, 0, 1, 1]
    minima = L.local_minima(s, p)
    assert [(m.index, m.basin) for m in minima] == [(6, 7), (3, 1)]
    assert [m.energy for m in minima] == pytest.approx([-2.4, -1.6])
    r = L.analyse(s, p, names=["A", "B", "C", "D"])
    assert r.blocs(r.optimum_labels) == (("A", "B"), ("C", "D"))
    assert r.blocs(r.minima[1]) == (("A", "D"), ("B", "C"))
    assert r.optimum_energy == pytest.approx(-2.4) and r.basins.tolist() == [7, 1]


# ------------------------------------------------------------------------------------------
# Invariances


def test_label_swap_invariance():
    rng = np.random.default_rng(1)
    s, p = random_case(rng, 9)
    x = L.configurations(9)
    assert np.allclose(L.energies(s, p, x), L.energies(s, p, ~x))
    assert np.allclose(L.energies(s, p, x), L.energies(s, p, x.astype(int)))


def test_scale_invariance_and_normalise():
    rng = np.random.default_rng(2)
    s, p = random_case(rng, 8)
    base = L.analyse(s, p)
    for a, b in [(3.0, 0.5), (1e-3, 1.0)]:
        r = L.analyse(a * s, b * p)
        assert np.allclose(r.energies, a * a * b * base.energies)
        assert np.array_equal(r.minima, base.minima) and np.array_equal(r.basins, base.basins)
        assert r.optimum == base.optimum
    r = L.analyse(s, p, normalise=True)
    assert r.sizes.sum() == pytest.approx(1) and np.array_equal(r.minima, base.minima)
    assert np.allclose(r.energies, base.energies / s.sum() ** 2)


def test_actor_permutation_keeps_blocs():
    rng = np.random.default_rng(3)
    s, p = random_case(rng, 8)
    perm = rng.permutation(8)
    best, best_perm = L.best_configuration(s, p), L.best_configuration(s[perm], p[perm][:, perm])
    same = best[perm] == best_perm
    assert same.all() or not same.any()  # same partition, possibly with labels swapped


# ------------------------------------------------------------------------------------------
# Against brute force


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 8), seed=st.integers(0, 2**32 - 1))
def test_matches_brute_force(n, seed):
    s, p = random_case(np.random.default_rng(seed), n)
    e, basins = brute_landscape(s, p)
    cfgs = brute_configs(n)
    assert np.allclose(L.energies(s, p), [e[x] for x in cfgs])
    best = min(cfgs, key=lambda x: e[x])  # continuous random numbers: no ties
    assert tuple(L.best_configuration(s, p)) == best
    minima = L.local_minima(s, p)
    assert {tuple(m.labels): m.basin for m in minima} == basins
    assert [m.energy for m in minima] == sorted(m.energy for m in minima)


@pytest.mark.parametrize("seed", range(5))
def test_minima_are_stable_and_basins_partition(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 11))
    s, p = random_case(rng, n)
    r = L.analyse(s, p)
    assert r.basins.sum() == 2 ** (n - 1) and (r.basins >= 1).all()
    assert (r.minima[:, 0] == 0).all()
    for labels, energy in zip(r.minima, r.energies, strict=True):
        assert brute_energy(labels, s, p) == pytest.approx(energy)
        for y in neighbours(labels):  # no single switch lowers the energy
            assert brute_energy(y, s, p) >= energy - 1e-12
    assert r.optimum_energy == pytest.approx(r.landscape.min())


def test_single_actor():
    r = L.analyse([2.0], [[1.0]], names=["solo"])
    assert r.minima.tolist() == [[0]] and r.basins.tolist() == [1] and r.optimum_energy == 0


def test_zero_weights_every_configuration_stable():
    r = L.analyse(np.ones(4), np.zeros((4, 4)))
    assert len(r.minima) == 8 and r.basins.tolist() == [1] * 8 and r.optimum == 0


# ------------------------------------------------------------------------------------------
# Replicate axis


def test_replicate_axis_matches_single_calls():
    rng = np.random.default_rng(4)
    cases = [random_case(rng, 7) for _ in range(5)]
    S = np.stack([c[0] for c in cases])
    P = np.stack([c[1] for c in cases])
    E, B = L.energies(S, P), L.best_configuration(S, P)
    assert E.shape == (5, 64) and B.shape == (5, 7) and B.dtype == np.int8
    for r, (s, p) in enumerate(cases):
        assert np.allclose(E[r], L.energies(s, p))
        assert np.array_equal(B[r], L.best_configuration(s, p))
    # one side of the pair broadcasts over the other's replicate axis
    assert np.allclose(L.energies(S[0], P)[2], L.energies(S[0], P[2]))
    assert np.array_equal(L.best_configuration(S, P[0])[3], L.best_configuration(S[3], P[0]))


# ------------------------------------------------------------------------------------------
# The compiled search (Gray-code blocks) against the plain one


def tied_case(rng, n, r):
    """Cases full of exact ties: equal or repeated sizes, propensities in {-1, 0, 1}."""
    s = rng.choice([0.0, 0.5, 1.0], size=(r, n))
    p = rng.choice([-1.0, 0.0, 1.0], size=(r, n, n))
    p = np.triu(p, 1)
    return s, p + np.swapaxes(p, 1, 2)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 9, 10, 12, 16])
def test_compiled_search_equals_the_plain_one(n):
    rng = np.random.default_rng(n)
    r = 40 if n < 16 else 6
    s, p = (np.stack(a) for a in zip(*(random_case(rng, n) for _ in range(r)), strict=True))
    assert np.array_equal(L.best_configuration(s, p), L.best_configuration_reference(s, p))
    s, p = tied_case(rng, n, r)
    assert np.array_equal(L.best_configuration(s, p), L.best_configuration_reference(s, p))


def test_compiled_search_breaks_ties_like_the_plain_one():
    # Every configuration ties (no weight), or two actors are copies of each other, or all
    # actors are alike: the first configuration in order among the tied wins.
    n = 11
    rng = np.random.default_rng(3)
    s, p = random_case(rng, n)
    s[4], p[4], p[:, 4] = s[2], p[2], p[:, 2]
    p[2, 4] = p[4, 2] = 0.0
    p[4, 4] = p[2, 2]
    cases = [
        (np.ones(n), np.zeros((n, n))),
        (s, p),
        (np.ones(n), np.full((n, n), -1.0)),
        (np.ones(n) * 3, np.full((n, n), 0.5)),
    ]
    for s, p in cases:
        got = L.best_configuration(s, p)
        assert np.array_equal(got, L.best_configuration_reference(s, p))
    assert L.best_configuration(np.ones(n), np.zeros((n, n))).tolist() == [0] * n


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 11),
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([1e-6, 1.0, 1e6]),
)
def test_compiled_search_equals_the_plain_one_property(n, seed, scale):
    rng = np.random.default_rng(seed)
    s, p = tied_case(rng, n, 8) if seed % 2 else random_case(rng, n)
    s = s * scale
    assert np.array_equal(L.best_configuration(s, p), L.best_configuration_reference(s, p))


# ------------------------------------------------------------------------------------------
# Twenty actors


def test_twenty_actors():
    s, p = random_case(np.random.default_rng(20), 20)
    best = L.best_configuration(s, p)
    assert best.shape == (20,) and best.dtype == np.int8 and best[0] == 0
    assert np.array_equal(best, L.best_configuration_reference(s, p))
    r = L.analyse(s, p)
    assert r.landscape.shape == (2**19,) and r.basins.sum() == 2**19
    assert np.array_equal(r.optimum_labels, best)
    e_best = brute_energy(best, s, p)
    assert e_best == pytest.approx(r.landscape.min())
    assert all(brute_energy(y, s, p) >= e_best for y in neighbours(best))


# ------------------------------------------------------------------------------------------
# Bad arguments


@pytest.mark.parametrize(
    "sizes, propensity",
    [
        ([1, 1], [[0, 1], [0.5, 0]]),  # not symmetric
        ([1, -1], [[0, 1], [1, 0]]),  # negative size
        ([1, np.nan], [[0, 1], [1, 0]]),  # not finite
        ([1, 1], [[0, np.inf], [np.inf, 0]]),
        ([1, 1, 1], [[0, 1], [1, 0]]),  # shapes disagree
    ],
)
def test_bad_arguments(sizes, propensity):
    with pytest.raises(ValueError):
        L.energies(sizes, propensity)


def test_analyse_bad_names_and_replicates():
    with pytest.raises(ValueError):
        L.analyse([1, 1], [[0, 1], [1, 0]], names=["a"])
    with pytest.raises(ValueError):
        L.analyse(np.ones((2, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError):
        L.normalise_sizes([0, 0])


# ------------------------------------------------------------------------------------------
# Tables

CSV = """\
# sizes: capability; propensities: assumption for the test
actor,size,iran,russia,us,gulf
iran,0.15,,0.6,-0.8,-0.9
russia,0.3,0.6,1,-0.4,-0.2

us,0.45,-0.8,-0.4,,0.8
gulf,0.1,-0.9,-0.2,0.8,
"""

TOML = """\
title = "test"

[actors]
iran = 0.15
russia = 0.3
us = 0.45
gulf = 0.1

[propensity]
iran = { russia = 0.6, us = -0.8, gulf = -0.9 }
russia.us = -0.4
russia.gulf = -0.2
gulf.us = 0.8
us.gulf = 0.8   # both ways is fine when equal
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_table_csv_and_toml_agree(tmp_path):
    names, s, p = L.read_table(write(tmp_path, "t.csv", CSV))
    assert names == ("iran", "russia", "us", "gulf")
    assert s.tolist() == [0.15, 0.3, 0.45, 0.1]
    assert np.array_equal(p, p.T) and np.all(np.diag(p) == 0) and p[0, 1] == 0.6
    names2, s2, p2 = L.read_table(write(tmp_path, "t.toml", TOML))
    assert names2 == names and np.array_equal(s2, s) and np.array_equal(p2, p)
    r = L.analyse(s, p, names)
    assert r.blocs(r.optimum_labels) == (("iran", "russia"), ("us", "gulf"))


def test_read_table_csv_columns_in_any_order(tmp_path):
    text = "actor,size,b,a\na,1,0.5,\nb,2,,0.5\n"
    names, s, p = L.read_table(write(tmp_path, "t.csv", text))
    assert names == ("a", "b") and p[0, 1] == 0.5


@pytest.mark.parametrize(
    "name, text, field, message",
    [
        ("t.csv", CSV.replace("iran,0.15,,0.6", "iran,0.15,,0.5"), "row russia, column iran",
         "not symmetric"),
        ("t.csv", CSV.replace("-0.8,-0.9", "-0.8,nan"), "row iran, column gulf", "finite"),
        ("t.csv", CSV.replace("0.45", "inf"), "row us, column size", "finite"),
        ("t.csv", CSV.replace("0.45", "-1"), "row us, column size", "out of range"),
        ("t.csv", CSV.replace("-0.8,-0.9", "-0.8,x"), "row iran, column gulf", "not a number"),
        ("t.csv", CSV.replace("-0.8,-0.9", "-0.8,1.5"), "row iran, column gulf", "out of range"),
        ("t.csv", CSV.replace(",gulf\n", ",gulf_state\n"), "row gulf", "row and a column"),
        ("t.csv", CSV.replace("gulf,0.1,-0.9,-0.2,0.8,\n", ""), "column gulf", "row and a column"),
        ("t.csv", CSV.replace("actor,size", "name,size"), "header", "bad header"),
        ("t.csv", CSV.replace(",us,gulf", ",us,iran"), "header", "two columns"),
        ("t.csv", CSV.replace("-0.8,-0.9\n", "-0.8\n"), "row iran", "number of cells"),
        ("t.toml", TOML.replace("russia.gulf = -0.2\n", ""), "russia.gulf", "missing"),
        ("t.toml", TOML.replace("us.gulf = 0.8", "us.gulf = 0.7"), "propensity.us.gulf",
         "not symmetric"),
        ("t.toml", TOML.replace("gulf = 0.1", "gulf = nan"), "actors.gulf", "finite"),
        ("t.toml", TOML.replace("russia.us", "russia.uk"), "propensity.russia.uk", "unknown"),
        ("t.toml", TOML.replace("[propensity]", "[propensities]"), "propensities", "unknown"),
        ("t.toml", TOML.replace("us = 0.45", 'us = "big"'), "actors.us", "not a number"),
        ("t.toml", "[actors]\na = 1\n", "actors", "need 2 to 20"),
    ],
)  # fmt: skip
def test_read_table_bad_input(tmp_path, name, text, field, message):
    path = write(tmp_path, name, text)
    with pytest.raises(SimInputError) as info:
        L.read_table(path)
    assert info.value.file == str(path) and info.value.field == field
    assert message in str(info.value) and "\n" not in str(info.value)


def test_read_table_bad_files(tmp_path):
    with pytest.raises(SimInputError, match="does not exist"):
        L.read_table(tmp_path / "missing.csv")
    with pytest.raises(SimInputError, match="unknown table type") as info:
        L.read_table(write(tmp_path, "t.xlsx", CSV))
    assert info.value.allowed == ".csv, .toml"
    with pytest.raises(SimInputError, match="not valid TOML"):
        L.read_table(write(tmp_path, "t.toml", "[actors\n"))
    with pytest.raises(SimInputError, match="not a file"):
        L.read_table(tmp_path)


# ------------------------------------------------------------------------------------------
# Figure


def test_plot_landscape(tmp_path):
    from matplotlib.figure import Figure

    r = L.analyse(*four_actor_case(), names="ABCD")
    ax = L.plot_landscape(r)
    ax.figure.savefig(tmp_path / "a.png")
    assert (tmp_path / "a.png").stat().st_size > 0
    own = Figure().add_subplot()
    assert L.plot_landscape(r, ax=own) is own
