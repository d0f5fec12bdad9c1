"""What the engine reports: compact records on the hot path, and the facts the market works with.

The engine runs millions of operations in a busy market and each one reports something, so it
appends plain tuples (a tuple costs about a fifth of an object to build) and folds everything one
trade did, the trade itself, both orders' remainders and its eight wallet movements, into a single
record. `facts` turns those records back into the objects the rest of the market reads (Trade,
DepthChange, OrderUpdate, BalanceChange), in the order the movements happened.

The records, each tagged by its first item:

- `(RESTED, order, amount, date)`: a new order rested whole without meeting the other side: it was
  added and its level grew by `amount`. The commonest operation gets the smallest record.
- `(CANCELLED, order, amount, date)`: a resting order was cancelled and its level shrank by `amount`.
- `(ORDER, order, delta, remaining, status, reason, date)`: an order was added, activated or
  cancelled; the Order supplies its unchanging fields (oid, user, side, currency, price).
- `(FILL, date, tid, price, amount, taker_side, taker, maker, taker_left, maker_left, cost, fee_cash,
  fee_btc, seller_btc, seller_cash, fees_cash, buyer_cash, buyer_btc, fees_btc)`: one trade between
  the orders `taker` and `maker`, with what remains of each; the last six are balances once the trade
  and its fees are booked.
- `(DEPTH, currency, deltas, date)`: the volume changes of one book in one operation, keyed like the
  book (`price` for bids, `-price` for asks); zero deltas are left for `facts` to skip.
- `(MOVE, user, currency, delta, balance, kind, date)`: a deposit or a withdrawal.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from emulator.engine.orders import ASK, BID

ITEM = "BTC"
FEE_ACCOUNT = "_fees"

ORDER = 0
FILL = 1
DEPTH = 2
MOVE = 3
RESTED = 4
CANCELLED = 5

Record = tuple[Any, ...]
"""One engine record; the layouts are in the module docstring."""


@dataclass(slots=True)
class Trade:
    tid: int
    date: int  # microseconds of market time
    currency: str
    price: int
    amount: int
    taker_side: int  # ASK or BID: the side that took liquidity
    buy_oid: int
    sell_oid: int
    buyer: str
    seller: str


@dataclass(slots=True)
class DepthChange:
    """Signed change of the total volume resting at one price level."""

    currency: str
    side: int
    price: int
    delta: int
    date: int


@dataclass(slots=True)
class OrderUpdate:
    """An order was added, filled (partly or fully), activated or cancelled.

    `delta` is the change of the order's resting volume (negative on fills and cancels).
    """

    oid: int
    user: str
    side: int
    currency: str
    price: int | None
    delta: int
    remaining: int
    status: int
    reason: str  # "added", "filled", "activated", "cancelled"
    date: int


@dataclass(slots=True)
class BalanceChange:
    """One wallet movement, in MtGox's history vocabulary (in, out, spent, earned, fee, deposit, withdraw)."""

    user: str
    currency: str
    delta: int
    balance: int
    kind: str
    date: int


Event = Trade | DepthChange | OrderUpdate | BalanceChange


def facts(records: Iterable[Record]) -> Iterator[Event]:
    """The facts behind engine records, one Trade, DepthChange, OrderUpdate or BalanceChange each."""
    for record in records:
        tag = record[0]
        if tag == RESTED:
            _, order, amount, date = record
            yield OrderUpdate(
                order.oid, order.user, order.side, order.currency, order.price, amount, amount, 1, "added", date
            )
            yield DepthChange(order.currency, order.side, order.price, amount, date)
        elif tag == CANCELLED:
            _, order, amount, date = record
            yield OrderUpdate(
                order.oid, order.user, order.side, order.currency, order.price, -amount, 0, 1, "cancelled", date
            )
            yield DepthChange(order.currency, order.side, order.price, -amount, date)
        elif tag == ORDER:
            _, order, delta, remaining, status, reason, date = record
            yield OrderUpdate(
                order.oid, order.user, order.side, order.currency, order.price, delta, remaining, status, reason, date
            )
        elif tag == DEPTH:
            _, currency, deltas, date = record
            for key, delta in deltas.items():
                if delta:
                    yield DepthChange(currency, BID if key > 0 else ASK, abs(key), delta, date)
        elif tag == FILL:
            yield from _fill_facts(record)
        else:
            _, user, currency, delta, balance, kind, date = record
            yield BalanceChange(user, currency, delta, balance, kind, date)


def _fill_facts(record: Record) -> Iterator[Event]:
    """A trade's wallet movements in booking order (the seller's side first), the trade, then both orders."""
    (
        _,
        date,
        tid,
        price,
        amount,
        taker_side,
        taker,
        maker,
        taker_left,
        maker_left,
        cost,
        fee_cash,
        fee_btc,
        seller_btc,
        seller_cash,
        fees_cash,
        buyer_cash,
        buyer_btc,
        fees_btc,
    ) = record
    if taker_side == BID:
        buy, sell, buy_left, sell_left = taker, maker, taker_left, maker_left
    else:
        buy, sell, buy_left, sell_left = maker, taker, maker_left, taker_left
    currency = buy.currency
    seller = sell.user
    buyer = buy.user
    yield BalanceChange(seller, ITEM, -amount, seller_btc, "out", date)
    yield BalanceChange(seller, currency, cost, seller_cash + fee_cash, "earned", date)
    if fee_cash:
        yield BalanceChange(seller, currency, -fee_cash, seller_cash, "fee", date)
        yield BalanceChange(FEE_ACCOUNT, currency, fee_cash, fees_cash, "fee", date)
    yield BalanceChange(buyer, currency, -cost, buyer_cash, "spent", date)
    yield BalanceChange(buyer, ITEM, amount, buyer_btc + fee_btc, "in", date)
    if fee_btc:
        yield BalanceChange(buyer, ITEM, -fee_btc, buyer_btc, "fee", date)
        yield BalanceChange(FEE_ACCOUNT, ITEM, fee_btc, fees_btc, "fee", date)
    yield Trade(tid, date, currency, price, amount, taker_side, buy.oid, sell.oid, buyer, seller)
    yield OrderUpdate(buy.oid, buyer, BID, currency, buy.price, -amount, buy_left, 1, "filled", date)
    yield OrderUpdate(sell.oid, seller, ASK, currency, sell.price, -amount, sell_left, 1, "filled", date)
