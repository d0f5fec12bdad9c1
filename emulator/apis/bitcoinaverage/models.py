"""The BitcoinAverage state kept beside a world, as `world.models["bitcoinaverage"]`.

Saved with the world (snapshot/restore): rate-limit windows, websocket tickets and the key-header
setting (transactions added at run time live in the world itself). Not saved: the price model and
the per-second view, which are caches of pure functions of the world (rebuilt on demand), and the
websocket client counts per key, which count live sockets (a reset or restore closes them all, so
the count starts from zero).

Choices where the spec is silent:
- Rate limits are fixed windows of `window_seconds` of market time, opened by a key's (or an
  anonymous client address's) first request; a refused request does not count. `Retry-After` is the
  whole seconds until the window closes.
- Tickets are unguessable (not seeded), single-use, valid `ticket_seconds` of market time, bound to
  the key and to the family of channels they were issued for (`v1` or `v2`).
"""

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator.apis.bitcoinaverage.catalog import Catalog, catalog
from emulator.apis.bitcoinaverage.prices import PriceModel
from emulator.apis.bitcoinaverage.view import View
from emulator.market.accounts import random_token
from emulator.market.clock import MICROS
from emulator.market.memo import Memo
from emulator.market.models import register_model

if TYPE_CHECKING:
    from emulator.market.world import World

NAME = "bitcoinaverage"
MAX_WINDOWS = 10_000


@dataclass
class Ticket:
    public_key: str
    expires: int  # market microseconds
    family: str  # "v1" or "v2"


class AverageModel:
    def __init__(self) -> None:
        self.base: Catalog = catalog()
        self.catalog: Catalog = self.base  # the base with the world's exchange status applied
        self._status: tuple[Any, ...] = ()
        self.windows: dict[str, list[int]] = {}  # identity -> [window start, requests]
        self.tickets: dict[str, Ticket] = {}
        self.clients: dict[str, int] = {}  # public key -> connected websocket clients
        self.key_header = self.catalog.plans.key_header
        self._prices: Memo[PriceModel] = Memo(limit=1)  # a pure function of its whole key (see prices)
        self._view: Memo[View] = Memo(limit=1)  # per state of the world and market second
        self._trades_at: Memo[tuple[int, int]] = Memo(limit=4096)  # per epoch: see View.mtgox_at

    # -- snapshot ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        if not self.windows and not self.tickets and self.key_header == self.catalog.plans.key_header:
            return {}  # as made: a first request that changed nothing leaves no trace in the snapshot
        return {
            "windows": {k: list(v) for k, v in self.windows.items()},
            "tickets": {t: [v.public_key, v.expires, v.family] for t, v in self.tickets.items()},
            "key_header": self.key_header,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.windows = {k: list(v) for k, v in state.get("windows", {}).items()}
        self.tickets = {t: Ticket(*v) for t, v in state.get("tickets", {}).items()}
        self.clients = {}
        self.key_header = state.get("key_header", self.catalog.plans.key_header)

    # -- the market -------------------------------------------------------------------------

    def catalog_for(self, world: "World") -> Catalog:
        """The catalog as the world's scenario left it (exchanges switched off, back on or ignored)."""
        if not world.exchange_status and not self._status:  # the usual case, on every request
            return self.catalog
        status = tuple(sorted((name, tuple(sorted(change.items()))) for name, change in world.exchange_status.items()))
        if status != self._status:
            self._status = status
            self.catalog = self.base.with_status(world.exchange_status) if status else self.base
        return self.catalog

    def prices(self, world: "World") -> PriceModel:
        """The price model for the world's seed, start, opening price and exchange status. It holds
        nothing of the world's state (MtGox's trades enter in the view), so it is keyed on exactly
        what it is made from, and survives a reset to the same seed and start (it costs ~0.4 s)."""
        catalog = self.catalog_for(world)
        started = world.started // MICROS
        key = (world.seed, started, world.opening_price, self._status)
        return self._prices.get(key, "prices", lambda: PriceModel(catalog, world.seed, started, world.opening_price))

    def view(self, world: "World") -> View:
        """The view at the world's current state and second."""
        prices = self.prices(world)
        return self._view.get(world.state_key(), "view", lambda: View(self.catalog, prices, world, self._trades_at))

    def transaction_time(self, world: "World", tx_hash: str) -> int | None:
        """When a transaction was made (unix seconds): added to the world at run time, or a fixture."""
        tx_hash = tx_hash.lower()
        return world.transactions.get(tx_hash, self.catalog.transactions.get(tx_hash))

    # -- rate limits ------------------------------------------------------------------------

    def hit(self, identity: str, limit: int | None, now: int) -> int | None:
        """Count a request; None if allowed, else the seconds to wait (Retry-After)."""
        if limit is None:
            return None
        window = self.catalog.plans.window_seconds * MICROS
        entry = self.windows.get(identity)
        if entry is None or now >= entry[0] + window:
            if len(self.windows) >= MAX_WINDOWS:
                self.windows = {k: v for k, v in self.windows.items() if now < v[0] + window}
            entry = self.windows[identity] = [now, 0]
        if entry[1] >= limit:
            return max(1, math.ceil((entry[0] + window - now) / MICROS))
        entry[1] += 1
        return None

    # -- websocket tickets and clients ------------------------------------------------------

    def issue_ticket(self, public_key: str, family: str, now: int) -> str:
        self.tickets = {t: v for t, v in self.tickets.items() if v.expires > now}
        ticket = random_token(24)
        self.tickets[ticket] = Ticket(public_key, now + self.catalog.plans.ticket_seconds * MICROS, family)
        return ticket

    def consume_ticket(self, ticket: str, public_key: str, now: int, family: str | None = None) -> bool:
        """For the websocket handshake: True (and the ticket is spent) if it is valid for this key
        (and, when `family` is given, was issued for that family of channels: "v1" or "v2")."""
        found = self.tickets.get(ticket)
        if found is None or found.expires <= now or found.public_key != public_key:
            return False
        if family is not None and found.family != family:
            return False
        del self.tickets[ticket]
        return True

    def client_limit_reached(self, public_key: str, plan: str) -> bool:
        return self.clients.get(public_key, 0) >= self.catalog.plans.websocket_clients.get(plan, 0)

    def connect(self, public_key: str) -> None:
        self.clients[public_key] = self.clients.get(public_key, 0) + 1

    def disconnect(self, public_key: str) -> None:
        left = self.clients.get(public_key, 0) - 1
        if left > 0:
            self.clients[public_key] = left
        else:
            self.clients.pop(public_key, None)


def get_model(world: "World") -> AverageModel:
    model = world.model(NAME)
    assert isinstance(model, AverageModel)
    return model


register_model(NAME, lambda world: AverageModel())
