"""Integer state to 2011 MtGox JSON: numbers where MtGox sent numbers, strings for `*_int` and tids."""

import csv
import io
from datetime import UTC, datetime
from typing import Any

from emulator.engine import ASK, BID, Order, OrderStatus, Trade
from emulator.engine.events import BalanceChange
from emulator.engine.units import BTC_SCALE, MICROS, price_scale, to_decimal_string, to_number
from emulator.market.trades import Stats

SIDE_NAMES = {ASK: "ask", BID: "bid"}
HISTORY_TEXT = {
    "in": "BTC bought",
    "out": "BTC sold",
    "spent": "BTC bought",
    "earned": "BTC sold",
    "fee": "Trade fee",
    "deposit": "Deposit",
    "withdraw": "Withdrawal",
}


def btc(units: int) -> int | float:
    return to_number(units, BTC_SCALE)


def money(units: int, currency: str) -> int | float:
    return to_number(units, price_scale(currency))


def ticker(stats: Stats, best_bid: int | None, best_ask: int | None, currency: str = "USD") -> dict[str, Any]:
    last = stats.last or 0
    return {
        "high": money(stats.high if stats.high is not None else last, currency),
        "low": money(stats.low if stats.low is not None else last, currency),
        "avg": money(stats.vwap if stats.vwap is not None else last, currency),
        "vwap": money(stats.vwap if stats.vwap is not None else last, currency),
        "vol": round(stats.volume / BTC_SCALE),
        "last": money(last, currency),
        "buy": money(best_bid or 0, currency),
        "sell": money(best_ask or 0, currency),
    }


def depth(asks: list[tuple[int, int]], bids: list[tuple[int, int]], currency: str) -> dict[str, Any]:
    """Both sides sorted by price ascending, as the July 2011 responses were."""
    return {
        "asks": [[money(p, currency), btc(v)] for p, v in asks],
        "bids": [[money(p, currency), btc(v)] for p, v in bids],
    }


def trade(t: Trade) -> dict[str, Any]:
    scale = price_scale(t.currency)
    return {
        "date": t.date // MICROS,
        "price": to_decimal_string(t.price, scale),
        "amount": to_decimal_string(t.amount, BTC_SCALE),
        "price_int": str(t.price),
        "amount_int": str(t.amount),
        "tid": str(t.tid),
        "price_currency": t.currency,
        "item": "BTC",
        "trade_type": SIDE_NAMES[t.taker_side],
    }


def order(o: Order, oid: str) -> dict[str, Any]:
    return {
        "oid": oid,
        "currency": o.currency,
        "item": "BTC",
        "type": o.side,
        "amount": btc(o.amount),
        "price": money(o.price or 0, o.currency),
        "status": int(o.status),
        "dark": 0,
        "date": o.created // MICROS,
        "priority": str(o.priority),
        "real_status": "open" if o.status == OrderStatus.ACTIVE else "invalid",
    }


def funds(balances: dict[str, int]) -> dict[str, Any]:
    return {"usds": money(balances.get("USD", 0), "USD"), "btcs": btc(balances.get("BTC", 0))}


def wallet_entry(units: int, currency: str) -> dict[str, Any]:
    scale = BTC_SCALE if currency == "BTC" else price_scale(currency)
    decimals = 8 if currency == "BTC" else 5
    value = f"{units / scale:.{decimals}f}"
    display = f"{value} BTC" if currency == "BTC" else f"${value}" if currency == "USD" else f"{value} {currency}"
    return {"value": value, "value_int": str(units), "display": display, "currency": currency}


def history_csv(changes: list[BalanceChange], currency: str) -> str:
    """The user's wallet movements: index, date, type, info, value, balance."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Index", "Date", "Type", "Info", "Value", "Balance"])
    scale = BTC_SCALE if currency == "BTC" else price_scale(currency)
    index = 0
    for change in changes:
        if change.currency != currency:
            continue
        index += 1
        when = datetime.fromtimestamp(change.date // MICROS, UTC).strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow(
            [
                index,
                when,
                change.kind,
                HISTORY_TEXT.get(change.kind, change.kind),
                to_decimal_string(abs(change.delta), scale),
                to_decimal_string(change.balance, scale),
            ]
        )
    return out.getvalue()
