"""Seeded smooth value noise: the building block of every price, rate and volume of the view.

`noise(key, period, t)` is a pure function of its arguments with values in [-1, 1]: random values on
a grid of `period` seconds (hashed from the key and the grid cell, splitmix64) joined by a smoothstep,
so it is continuous in t and costs two hashes. Nothing is stored, so the past and the future of a
series are the same function and history joins the live series without a jump.
"""

import hashlib
from functools import cache

import numpy as np
from numpy.typing import NDArray

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


# -- many series at many instants in one go -----------------------------------------------------
# uint64 arithmetic wraps modulo 2**64 exactly as the masks above do, and the float steps run in
# the same order, so every element equals what the scalar function gives for its key and instant.

_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_S27, _S30, _S31 = np.uint64(27), np.uint64(30), np.uint64(31)


class Bank:
    """Many noise series (each a key and a period) evaluated together at several instants: one
    hash and one smoothstep over a (instants, series) array, so numpy's cost per call is paid once
    for every price, rate and volume of a second rather than once per layer and kind. Element for
    element, `values(times)[j, s]` is `noise(keys[s], periods[s], times[j])`."""

    __slots__ = ("keys", "periods")

    def __init__(self, series: list[tuple[int, int]]) -> None:
        self.keys = np.array([key & MASK for key, _ in series], dtype=np.uint64)
        self.periods = np.array([period for _, period in series], dtype=np.int64)

    def values(self, times: NDArray[np.int64]) -> NDArray[np.float64]:
        cells = times[:, np.newaxis] // self.periods
        f = (times[:, np.newaxis] - cells * self.periods) / self.periods
        lattice = self._lattice(np.concatenate((cells, cells + 1)))
        n = len(times)
        a, b = lattice[:n], lattice[n:]
        out: NDArray[np.float64] = a + (b - a) * f * f * (3.0 - 2.0 * f)
        return out

    def run(self, starts: list[int], count: int, step: int = 1) -> NDArray[np.float64]:
        """`values` at `count` seconds `step` apart from each of `starts` (rows: one run after
        another). A run shorter than the shortest period meets at most three cells of a series, so
        each is hashed once per run rather than twice per second."""
        assert (count - 1) * step < int(self.periods.min())
        first = np.array(starts, dtype=np.int64)[:, np.newaxis]
        cells = first // self.periods  # (runs, series)
        lattice = self._lattice(cells[:, np.newaxis] + np.arange(3)[:, np.newaxis])  # (runs, 3, series)
        times = (first + step * np.arange(count))[:, :, np.newaxis]  # (runs, count, 1)
        cell = times // self.periods
        later = cell > cells[:, np.newaxis]
        a = np.where(later, lattice[:, 1:2], lattice[:, 0:1])
        b = np.where(later, lattice[:, 2:3], lattice[:, 1:2])
        f = (times - cell * self.periods) / self.periods
        out: NDArray[np.float64] = a + (b - a) * f * f * (3.0 - 2.0 * f)
        return out.reshape(-1, len(self.periods))

    def _lattice(self, cells: NDArray[np.int64]) -> NDArray[np.float64]:
        """_lattice(keys[s], cells[..., s]) of every element."""
        z = self.keys ^ (cells.astype(np.uint64) * np.uint64(GOLDEN))
        z = (z ^ (z >> _S30)) * _C1
        z = (z ^ (z >> _S27)) * _C2
        z ^= z >> _S31
        found: NDArray[np.float64] = z / 9223372036854775808.0 - 1.0
        return found
