"""The lowest-energy two-bloc configuration of many cases, compiled and incremental.

`sim.model.landscape.best_configuration` calls it for every replicate of a run (twice: the
first and the last month), so its cost grows with the actors as ``2**(n-1)`` configurations per
case. The plain search (`landscape.best_configuration_reference`) evaluates each
configuration's energy afresh, ``O(n**2)`` each (a matrix product). This one cuts the
configurations into blocks that differ only in the first `LOW` actors and visits the blocks in
Gray-code order, so that from one block to the next a single later actor switches sides and
the block's energies follow from two small tables in a few additions each, plus ``O(n)`` per
block (see `_search`).

The result is the plain search's: the first configuration in `landscape.configurations` order
whose energy is within the tolerance of the least (energies are kept per configuration, then
scanned in that order). Energies are summed in another order than the matrix product, so they
differ from it in the last bits (a few hundred roundings of the total weight at most, far
below the tolerance ``RTOL`` of 1e-9 of it); only a configuration whose energy lies within that
rounding of the tolerance's edge could be decided otherwise. tests/test_landscape.py compares
the two on random cases and on cases full of exact ties.
"""

from __future__ import annotations

import numpy as np
from numba import njit

LOW = 8  # actors whose configurations are tabled within each block (see `_search`)


@njit(cache=True, error_model="numpy")
def _search(w: np.ndarray, tol: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    """For each case r: ``out[r]`` = labels of the best configuration of weights ``w[r]``.

    ``w`` (R, n, n) symmetric with a zero diagonal, ``tol`` (R,), ``out`` (R, n) int8.
    Configuration k puts actor j >= 1 in bloc 1 iff bit j - 1 of k is set (actor 0 stays in
    bloc 0). The first ``low`` actors after actor 0 (``low = min(LOW, n - 1)``) are the low
    bits of k, the others ("high") the high bits. With the high actors fixed (H) and the low
    ones all in bloc 0, the energy is ``base(H)``; moving a set L of low actors to bloc 1 adds
    their energy among themselves, ``inner[L]`` (the same for every H), and for each moved
    actor i its gain against the actors that are not low, ``c_i(H) = sum_j w_ij s_j`` (s_j = +1
    in bloc 0, -1 in bloc 1). So a block of ``2**low`` energies costs a few additions each
    (``part[L]``, the sum of ``c_i`` over L, is built from L without its lowest bit). The
    blocks are visited in Gray-code order of H (g(t) = t ^ (t >> 1)): one high actor switches
    from one block to the next, and ``base`` and ``c`` are updated in ``O(n)``.
    """
    cases, n = w.shape[0], w.shape[1]
    low = min(LOW, n - 1)
    size = 1 << low
    blocks = 1 << (n - 1 - low)
    energy = np.empty(size * blocks)
    inner = np.empty(size)
    part = np.empty(size)
    gain = np.empty(low)
    sign = np.empty(n)
    lowest = np.zeros(size, dtype=np.int64)  # index of the lowest set bit of u > 0
    highest = np.zeros(size, dtype=np.int64)  # and of the highest
    for u in range(1, size):
        while not (u >> lowest[u]) & 1:
            lowest[u] += 1
        while u >> (highest[u] + 1):
            highest[u] += 1
    for r in range(cases):
        wr = w[r]
        inner[0] = 0.0
        for u in range(1, size):  # add the highest low actor of u to u without it
            h = highest[u]
            prev = u ^ (1 << h)
            d = 0.0
            for j in range(low):  # w_hh = 0
                d += wr[h + 1, j + 1] * (-1.0 if (prev >> j) & 1 else 1.0)
            inner[u] = inner[prev] + d
        sign[:] = 1.0
        for i in range(low):
            d = 0.0
            for j in range(n):
                if j == 0 or j > low:
                    d += wr[i + 1, j]
            gain[i] = d
        base = 0.0
        for t in range(blocks):
            if t:  # high actor a switches sides
                b = 0
                while not (t >> b) & 1:
                    b += 1
                a = low + 1 + b
                d = 0.0
                for j in range(n):
                    d += wr[a, j] * sign[j]
                base += d * sign[a]
                for i in range(low):
                    gain[i] -= 2.0 * sign[a] * wr[i + 1, a]
                sign[a] = -sign[a]
            start = (t ^ (t >> 1)) << low
            part[0] = 0.0
            energy[start] = base
            for u in range(1, size):
                part[u] = part[u & (u - 1)] + gain[lowest[u]]
                energy[start + u] = base + inner[u] + part[u]
        least = energy[0]
        for k in range(1, size * blocks):
            if energy[k] < least:
                least = energy[k]
        edge = least + tol[r]
        best = 0
        while energy[best] > edge:
            best += 1
        out[r, 0] = 0
        for j in range(1, n):
            out[r, j] = (best >> (j - 1)) & 1


def best_configurations(w: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """Labels (R, n) int8 of the best configuration of each case's weights ``w`` (R, n, n)
    (symmetric, zero diagonal: `landscape._weights`), ties within ``tol`` (R,) to the first
    configuration in `landscape.configurations` order.
    """
    w = np.ascontiguousarray(w, dtype=np.float64)
    tol = np.ascontiguousarray(tol, dtype=np.float64)
    out = np.empty(w.shape[:2], dtype=np.int8)
    _search(w, tol, out)
    return out
