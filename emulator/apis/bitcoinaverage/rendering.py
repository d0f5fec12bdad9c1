"""Integers of the view -> the JSON shapes of BitcoinAverage v2 (spec §3).

Prices are rounded to 2 decimals as the real API did, except prices below 1 (cheap cryptos in
strong fiats), which keep 6 decimals so they do not collapse to 0. Crypto amounts keep 8 decimals,
percentages 2. Rates are decimal strings with up to 8 significant digits. The `mtgox` order book and
trades are shown as MtGox's `getDepth` and `getTrades` show them (5 decimals), so they compare equal.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from emulator.apis.bitcoinaverage.catalog import Exchange
from emulator.apis.bitcoinaverage.prices import AMOUNT, PRICE, RATE
from emulator.apis.bitcoinaverage.records import Stats, Ticker
from emulator.apis.bitcoinaverage.view import View
from emulator.apis.bitcoinaverage.weighting import MTGOX, MTGOX_SYMBOL, MTGOX_UNITS
from emulator.engine.units import BTC_SCALE, price_scale, to_number


def price(units: int, like: int | None = None) -> float:
    """A price rounded to 2 decimals, or 6 when it (or the price it is a change of, `like`) is below 1."""
    value = units / PRICE
    reference = abs(units if like is None else like)
    return round(value, 2) if reference >= PRICE else round(value, 6)


def amount(units: int) -> float:
    return round(units / AMOUNT, 8)


def rate(units: int) -> str:
    return format(units / RATE, ".8g")


def percent(part: int, whole: int) -> float:
    return round(part * 100 / whole, 2) if whole else 0.0


def display_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def dmy_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%d-%m-%Y %H:%M:%S")


def iso_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def changes(t: Ticker) -> dict[str, dict[str, float]]:
    opens = {"day": t.open_day, "week": t.open_week, "month": t.open_month}
    return {
        "price": {k: price(t.last - v, t.last) for k, v in opens.items()},
        "percent": {k: percent(t.last - v, v) for k, v in opens.items()},
    }


def ticker(t: Ticker) -> dict[str, Any]:
    return {
        "ask": price(t.ask),
        "bid": price(t.bid),
        "last": price(t.last),
        "high": price(t.high),
        "low": price(t.low),
        "open": {"day": price(t.open_day), "week": price(t.open_week), "month": price(t.open_month)},
        "averages": {"day": price(t.avg_day), "week": price(t.avg_week), "month": price(t.avg_month)},
        "volume": amount(t.volume),
        "changes": changes(t),
        "volume_percent": round(t.share_ppm / 10_000, 2),
        "timestamp": t.timestamp,
        "display_timestamp": display_time(t.timestamp),
    }


def short(t: Ticker) -> dict[str, Any]:
    return {"last": price(t.last), "averages": {"day": price(t.avg_day)}}


def symbol_stats(s: Stats) -> dict[str, float]:
    return {
        "last": price(s.last),
        "volume": amount(s.volume),
        "ask": price(s.ask),
        "bid": price(s.bid),
        "high": price(s.high),
        "low": price(s.low),
        "open": price(s.open),
        "vwap": price(s.vwap),
    }


def exchange(e: Exchange, timestamp: int, symbols: dict[str, Stats]) -> dict[str, Any]:
    return {
        "name": e.name,
        "display_name": e.display_name,
        "url": e.url,
        "timestamp": timestamp,
        "data_source": e.data_source,
        "symbols": {s: symbol_stats(v) for s, v in symbols.items()},
    }


def exchange_of(view: View, name: str, symbols: list[str] | None = None) -> dict[str, Any] | None:
    """`<exchange>` now (with only `symbols`, when given); None if it has none of them."""
    stats = view.exchange_stats(name, symbols)
    if not stats:
        return None
    return exchange(view.catalog.exchanges[name], max(s.timestamp for s in stats.values()), stats)


def listed(e: Exchange, timestamp: int) -> dict[str, Any]:
    out: dict[str, Any] = {"name": e.name, "display_name": e.display_name, "url": e.url, "timestamp": timestamp}
    if e.ignored is not None:
        out["ignore_reason"] = e.ignored
    return out


# -- order books and trades (websocket/v2/orderbooks and websocket/v2/trades) --------------------


def book_price(exchange: str, units: int) -> int | float:
    if exchange == MTGOX:
        return to_number(units // MTGOX_UNITS, price_scale(MTGOX_SYMBOL[3:]))
    return price(units)


def book_amount(exchange: str, units: int) -> int | float:
    return to_number(units, BTC_SCALE) if exchange == MTGOX else amount(units)


def book_snapshot(
    exchange: str, symbol: str, asks: Iterable[tuple[int, int]], bids: Iterable[tuple[int, int]]
) -> dict[str, Any]:
    """Both sides best price first: asks ascending, bids descending."""
    return {
        "type": "snapshot",
        "exchange": exchange,
        "symbol": symbol,
        "asks": [{"price": book_price(exchange, p), "amount": book_amount(exchange, a)} for p, a in asks],
        "bids": [{"price": book_price(exchange, p), "amount": book_amount(exchange, a)} for p, a in bids],
    }


def book_update(exchange: str, symbol: str, changes: Iterable[tuple[str, int, int]]) -> dict[str, Any]:
    """Each changed level with its new amount; amount 0 removes the level."""
    return {
        "type": "update",
        "exchange": exchange,
        "symbol": symbol,
        "updates": [
            {"side": side, "price": book_price(exchange, p), "amount": book_amount(exchange, a)}
            for side, p, a in changes
        ],
    }


def trade(exchange: str, symbol: str, time: int, units: int, size: int, side: str) -> dict[str, Any]:
    return {
        "exchange": exchange,
        "symbol": symbol,
        "price": book_price(exchange, units),
        "amount": book_amount(exchange, size),
        "side": side,
        "time": display_time(time),
    }
