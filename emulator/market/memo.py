"""Identities of world states that never repeat, and the one kind of cache keyed on them.

A world takes a fresh identity from one process-wide counter whenever it changes: every engine
operation that changed something, every change made beside the engine (accounts, transactions,
exchange status), and above all every reset and restore. A version number restarts at 0 on reset
and comes back with a snapshot, so a cache keyed on it can show a discarded world; an identity
cannot come back, in this tenant or any other. `epoch` is the same kind of number taken only on
reset and restore: the timeline a world is on, for what may outlive single changes (the `stale`
fault effect's last good answers).

Every cache of something derived from a world is a `Memo` keyed on one of these (with the market
second where the answer depends on time), so a cache cannot be written that forgets to be dropped.
The one other kind of key is the whole input of a pure function that reads nothing of the world's
state (the BitcoinAverage price model: seed, start, opening price, exchange status; the seeded day of
history before the start: seed, start, closing price).
"""

import itertools
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")

fresh_identity: Callable[[], int] = itertools.count(1).__next__
"""A number no world state in this process has had or will have (the counter's own `__next__`: every
engine operation takes one, and a call into C is the cheapest way to)."""


class Memo(Generic[T]):
    """Values worked out from one state of a world, dropped as soon as the key moves on.

    `key` is a world's identity or epoch, usually with the market second: `(world.identity, second)`.
    At most `limit` values are kept for one key (e.g. many `since` values polled in one second).
    """

    __slots__ = ("_key", "_values", "limit")

    def __init__(self, limit: int = 256) -> None:
        self._key: Hashable = None
        self._values: dict[Hashable, T] = {}
        self.limit = limit

    def values(self, key: Hashable) -> dict[Hashable, T]:
        """The values kept for `key` (empty, and the old ones dropped, when the key has moved on)."""
        if key != self._key:
            self._key = key
            self._values = {}
        return self._values

    def get(self, key: Hashable, name: Hashable, make: Callable[[], T]) -> T:
        """The value called `name` for `key`, made by `make()` the first time it is asked for."""
        values = self.values(key)
        found = values.get(name)
        if found is None:
            if len(values) >= self.limit:
                values.clear()
            found = values[name] = make()
        return found
