"""The static tables of the BitcoinAverage view, read once from `fixtures/bitcoinaverage/`.

cryptos.json (price levels and volumes per crypto), fiat.json (names, rates per US dollar, volume
weights), exchanges.json (about fifty exchanges with their symbols, spreads, premiums, ignored and
inactive ones), transactions.json (known transactions for `blockchain/tx_price`) and plans.json
(the permission matrix, rate limits, websocket client limits: one table).

Choices where the spec is silent:
- Local symbols are the pairs traded by at least one *included* exchange (active, not ignored);
  pairs only an ignored or inactive exchange trades are not local symbols. Global symbols are every
  crypto against every fiat of the rate table. Both are ordered by the fixtures' order.
"""

import copy
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from typing import Any

from emulator.paths import data_dir


@dataclass(frozen=True)
class Crypto:
    code: str
    name: str
    btc_ratio: float
    unit_volume: float
    growth_per_year: float
    volatility: float
    first_day: int  # unix seconds


@dataclass(frozen=True)
class Fiat:
    code: str
    name: str
    rate: float  # units per US dollar
    volume_weight: float


@dataclass(frozen=True)
class Exchange:
    name: str
    display_name: str
    url: str
    data_source: str
    size: float
    spread: float
    offset: float
    symbols: tuple[str, ...]
    offsets: dict[str, float] = field(default_factory=dict)
    ignored: str | None = None
    inactive_days: int | None = None
    inactive_since: int | None = None  # unix seconds: a scenario switched it off then

    @property
    def inactive(self) -> bool:
        return self.inactive_days is not None or self.inactive_since is not None

    @property
    def included(self) -> bool:
        return self.ignored is None and not self.inactive

    def inactive_from(self, started: int) -> int:
        """When it stopped updating (unix seconds), for a world started at `started`."""
        if self.inactive_since is not None:
            return self.inactive_since
        return started - (self.inactive_days or 0) * 86_400

    def offset_of(self, symbol: str) -> float:
        return self.offsets.get(symbol, self.offset)


@dataclass(frozen=True)
class Plans:
    order: tuple[str, ...]
    endpoints: dict[str, str]
    rate_limits: dict[str, int | None]
    window_seconds: int
    websocket_clients: dict[str, int]
    update_seconds: dict[str, int]
    websocket_symbols: dict[str, int]  # symbols per order book or trades subscription
    key_header: bool
    signature_window_seconds: int
    ticket_seconds: int

    def rank(self, plan: str) -> int:
        return self.order.index(plan)

    def allows(self, plan: str, endpoint: str) -> bool:
        return self.rank(plan) >= self.rank(self.endpoints[endpoint])


def _day(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())


def _instant(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp())


class Catalog:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.cryptos = {
            code: Crypto(
                code,
                c["name"],
                float(c["btc_ratio"]),
                float(c["unit_volume"]),
                float(c["growth_per_year"]),
                float(c["volatility"]),
                _day(c["first_day"]),
            )
            for code, c in raw["cryptos"].items()
            if not code.startswith("_")
        }
        self.fiats = {
            code: Fiat(code, f["name"], float(f["rate"]), float(f["volume_weight"]))
            for code, f in raw["fiat"]["rates"].items()
        }
        self.outlier_threshold = float(raw["exchanges"]["outlier_threshold"])
        self.exchanges: dict[str, Exchange] = {}
        for e in raw["exchanges"]["exchanges"]:
            exchange = Exchange(
                e["name"],
                e["display_name"],
                e["url"],
                e["data_source"],
                float(e["size"]),
                float(e["spread"]),
                float(e.get("offset", "0")),
                tuple(e["symbols"]),
                {s: float(v) for s, v in e.get("offsets", {}).items()},
                e.get("ignored"),
                e.get("inactive_days"),
            )
            for symbol in exchange.symbols:
                if self.split(symbol) is None:
                    raise ValueError(f"exchange {exchange.name}: unknown symbol {symbol}")
            self.exchanges[exchange.name] = exchange
        self._derive_symbols()
        self.transactions = {h.lower(): _instant(t) for h, t in raw["transactions"]["transactions"].items()}
        p = raw["plans"]
        self.plans = Plans(
            tuple(p["plans"]),
            dict(p["endpoints"]),
            dict(p["rate_limits"]),
            int(p["window_seconds"]),
            dict(p["websocket_clients"]),
            dict(p["update_seconds"]),
            dict(p["websocket_symbols"]),
            bool(p["key_header"]),
            int(p["signature_window_seconds"]),
            int(p["ticket_seconds"]),
        )

    def _derive_symbols(self) -> None:
        traded = {s for e in self.exchanges.values() if e.included for s in e.symbols}
        self.local_symbols = tuple(f"{c}{f}" for c in self.cryptos for f in self.fiats if f"{c}{f}" in traded)
        self.global_symbols = tuple(f"{c}{f}" for c in self.cryptos for f in self.fiats)
        self.local_fiats = tuple(f for f in self.fiats if any(s[-3:] == f for s in self.local_symbols))

    def with_status(self, status: dict[str, dict[str, Any]]) -> "Catalog":
        """This catalog with the exchanges a scenario switched (world.exchange_status) switched."""
        changed = copy.copy(self)
        changed.exchanges = dict(self.exchanges)
        for name, change in status.items():
            exchange = self.exchanges.get(name)
            if exchange is None:
                continue
            if change["status"] == "active":
                exchange = replace(exchange, ignored=None, inactive_days=None, inactive_since=None)
            elif change["status"] == "inactive":
                exchange = replace(exchange, inactive_days=None, inactive_since=change["since"] // 1_000_000)
            else:
                exchange = replace(exchange, ignored=change.get("reason") or "Ignored by the running scenario")
            changed.exchanges[name] = exchange
        changed._derive_symbols()
        return changed

    def split(self, symbol: str) -> tuple[str, str] | None:
        """`BTCUSD` -> ("BTC", "USD"), for a known crypto and a known fiat; None otherwise."""
        fiat = symbol[-3:]
        crypto = symbol[:-3]
        if crypto in self.cryptos and fiat in self.fiats:
            return crypto, fiat
        return None

    def symbols(self, market: str) -> tuple[str, ...]:
        return self.local_symbols if market == "local" else self.global_symbols

    def traders(self, symbol: str) -> list[Exchange]:
        """The included exchanges trading a symbol (the index's candidates)."""
        return [e for e in self.exchanges.values() if e.included and symbol in e.symbols]


@cache
def catalog() -> Catalog:
    folder = data_dir("fixtures") / "bitcoinaverage"
    raw = {
        name: json.loads((folder / f"{name}.json").read_text())
        for name in ("cryptos", "fiat", "exchanges", "transactions", "plans")
    }
    return Catalog(raw)
