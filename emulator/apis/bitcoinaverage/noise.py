"""Seeded smooth value noise: the building block of every price, rate and volume of the view.

`noise(key, period, t)` is a pure function of its arguments with values in [-1, 1]: random values on
a grid of `period` seconds (hashed from the key and the grid cell, splitmix64) joined by a smoothstep,
so it is continuous in t and costs two hashes. Nothing is stored, so the past and the future of a
series are the same function and history joins the live series without a jump.
"""

import hashlib
from functools import cache

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


@cache
def key_of(*parts: object) -> int:
    """A stable 64-bit key for a tuple of names (Python's own str hash is salted per process)."""
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=8).digest(), "big")


def _lattice(key: int, cell: int) -> float:
    z = (key ^ (cell * GOLDEN)) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    z ^= z >> 31
    return z / 9223372036854775808.0 - 1.0


def uniform(key: int, cell: int) -> float:
    """A hashed value in [0, 1) for one cell: the step-wise randomness (order book amounts, trades)
    that smooth noise would spread over every second."""
    return (_lattice(key, cell) + 1.0) / 2.0


def noise(key: int, period: int, t: int) -> float:
    cell, rest = divmod(t, period)
    f = rest / period
    a = _lattice(key, cell)
    b = _lattice(key, cell + 1)
    return a + (b - a) * f * f * (3.0 - 2.0 * f)


def octaves(key: int, layers: tuple[tuple[int, float], ...], t: int) -> float:
    """A sum of noise layers, each (period seconds, amplitude)."""
    total = 0.0
    for i, (period, amplitude) in enumerate(layers):
        total += amplitude * noise(key + i, period, t)
    return total
