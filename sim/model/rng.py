"""Counter-based random streams: one independent stream per (seed, point, replicate).

Every uniform number a run uses is a pure function of (run key, month, slot), so a run's results
do not depend on which chunk, process, executor or replicate batch it was computed in, and the
Mesa model (one replicate) draws exactly the numbers the array engine draws for that replicate.

The run key is derived from the user's seed with `numpy.random.SeedSequence` (which accepts any
non-negative integer and spreads its entropy), then mixed with the point and replicate indices.
Uniforms come from the SplitMix64 output function (Steele, Lea and Flood, "Fast splittable
pseudorandom number generators", OOPSLA 2014) applied to the key plus a Weyl-sequence counter:
the same construction as SplitMix64 itself, evaluated at arbitrary positions. numpy's bit
generators are stateful objects, one per stream; this vectorises across thousands of streams.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_POINT_SALT = np.uint64(0xD1B54A32D192ED03)
_REP_SALT = np.uint64(0x8CB92BA72F3D8DD7)
_INV_2_53 = 1.0 / 9007199254740992.0


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a bijective avalanche mix of 64-bit words."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def seed_key(seed: int) -> np.uint64:
    """A 64-bit key for a user seed (any non-negative integer)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return np.uint64(np.random.SeedSequence(int(seed)).generate_state(1, np.uint64)[0])


def run_keys(seed: int, points: np.ndarray, replicates: np.ndarray) -> np.ndarray:
    """Stream keys for runs identified by (point index, replicate index) under ``seed``."""
    points = np.asarray(points, dtype=np.uint64)
    replicates = np.asarray(replicates, dtype=np.uint64)
    with np.errstate(over="ignore"):
        k = _mix(
            np.full(np.broadcast(points, replicates).shape, seed_key(seed))
            ^ _mix(points * _POINT_SALT + _GOLDEN)
        )
        return _mix(k ^ _mix(replicates * _REP_SALT + _GOLDEN))


def uniforms(keys: np.ndarray, month: int, slots: int) -> np.ndarray:
    """Uniforms in [0, 1) of shape (len(keys), slots) for one month of each run's stream."""
    counter = np.arange(month * slots + 1, (month + 1) * slots + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = _mix(keys[:, None] + counter[None, :] * _GOLDEN)
    return (z >> np.uint64(11)).astype(np.float64) * _INV_2_53
