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

One more layout is not the engine's: `settled(fill)` is `(SETTLED, date, currency, seller, buyer,
amount, cost, fee_cash, fee_btc, seller_btc, seller_cash, fees_cash, buyer_cash, buyer_btc,
fees_btc)`, a FILL's wallet movements without its orders. The world keeps these for wallet history:
holding only strings and integers, they neither keep filled orders alive nor stay on the garbage
collector's lists, which a busy market's kept FILL records both did.
"""

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from emulator.engine.ledger import FEE_ACCOUNT
from emulator.engine.orders import ASK, BID

ITEM = "BTC"

ORDER = 0
FILL = 1
DEPTH = 2
MOVE = 3
RESTED = 4
CANCELLED = 5
SETTLED = 6

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


KINDS: frozenset[type] = frozenset({Trade, DepthChange, OrderUpdate, BalanceChange})
"""Every kind of fact; `facts` makes only those asked for."""


def trade_of(record: Record) -> Trade:
    """The trade a FILL record reports."""
    taker, maker = record[6], record[7]
    buy, sell = (taker, maker) if record[5] == BID else (maker, taker)
    return Trade(
        record[2], record[1], buy.currency, record[3], record[4], record[5], buy.oid, sell.oid, buy.user, sell.user
    )


def facts(
    records: Iterable[Record], kinds: Collection[type] = KINDS, trades: Iterable[Trade] | None = None
) -> list[Event]:
    """The facts behind engine records, one Trade, DepthChange, OrderUpdate or BalanceChange each, in
    the order they happened; only those of `kinds` are made. `trades`, when given, are the trades of
    the FILL records in order (see trade_of), already made by the caller: they are handed out instead
    of new ones."""
    want_orders = OrderUpdate in kinds
    want_depth = DepthChange in kinds
    want_balances = BalanceChange in kinds
    want_trades = Trade in kinds
    made = iter(trades) if trades is not None else None
    out: list[Event] = []
    add = out.append
    for record in records:
        tag = record[0]
        if tag == RESTED:
            _, order, amount, date = record
            if want_orders:
                add(
                    OrderUpdate(
                        order.oid, order.user, order.side, order.currency, order.price, amount, amount, 1, "added", date
                    )
                )
            if want_depth:
                add(DepthChange(order.currency, order.side, order.price, amount, date))
        elif tag == CANCELLED:
            _, order, amount, date = record
            if want_orders:
                add(
                    OrderUpdate(
                        order.oid, order.user, order.side, order.currency, order.price, -amount, 0, 1, "cancelled", date
                    )
                )
            if want_depth:
                add(DepthChange(order.currency, order.side, order.price, -amount, date))
        elif tag == ORDER:
            if want_orders:
                _, order, delta, remaining, status, reason, date = record
                add(
                    OrderUpdate(
                        order.oid,
                        order.user,
                        order.side,
                        order.currency,
                        order.price,
                        delta,
                        remaining,
                        status,
                        reason,
                        date,
                    )
                )
        elif tag == DEPTH:
            if want_depth:
                _, currency, deltas, date = record
                for key, delta in deltas.items():
                    if delta:
                        add(DepthChange(currency, BID if key > 0 else ASK, abs(key), delta, date))
        elif tag == FILL:
            trade = next(made) if made is not None else None
            if want_balances:
                _fill_movements(record, add)
            if want_trades:
                add(trade if trade is not None else trade_of(record))
            if want_orders:
                _fill_orders(record, add)
        elif tag == MOVE:
            if want_balances:
                _, user, currency, delta, balance, kind, date = record
                add(BalanceChange(user, currency, delta, balance, kind, date))
        elif want_balances:  # SETTLED
            _movements(record, add)
    return out


def settled(record: Record) -> Record:
    """The SETTLED record of a FILL record: its wallet movements, without the orders."""
    taker, maker = record[6], record[7]
    buy, sell = (taker, maker) if record[5] == BID else (maker, taker)
    return (SETTLED, record[1], buy.currency, sell.user, buy.user, record[4], *record[10:])


def depth_changes(records: Iterable[Record]) -> list[DepthChange]:
    """`facts(records, (DepthChange,))`, written out for the one kind every depth feed asks for
    after every operation: the same DepthChanges in the same order."""
    out: list[DepthChange] = []
    add = out.append
    for record in records:
        tag = record[0]
        if tag == RESTED:
            _, order, amount, date = record
            add(DepthChange(order.currency, order.side, order.price, amount, date))
        elif tag == CANCELLED:
            _, order, amount, date = record
            add(DepthChange(order.currency, order.side, order.price, -amount, date))
        elif tag == DEPTH:
            _, currency, deltas, date = record
            for key, delta in deltas.items():
                if delta:
                    if key > 0:
                        add(DepthChange(currency, BID, key, delta, date))
                    else:
                        add(DepthChange(currency, ASK, -key, delta, date))
    return out


def _fill_movements(record: Record, add: Callable[[Event], None]) -> None:
    """A trade's wallet movements in booking order (the seller's side first)."""
    _movements(settled(record), add)


def _movements(record: Record, add: Callable[[Event], None]) -> None:
    """The wallet movements of a SETTLED record in booking order (the seller's side first)."""
    (
        _,
        date,
        currency,
        seller,
        buyer,
        amount,
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
    add(BalanceChange(seller, ITEM, -amount, seller_btc, "out", date))
    add(BalanceChange(seller, currency, cost, seller_cash + fee_cash, "earned", date))
    if fee_cash:
        add(BalanceChange(seller, currency, -fee_cash, seller_cash, "fee", date))
        add(BalanceChange(FEE_ACCOUNT, currency, fee_cash, fees_cash, "fee", date))
    add(BalanceChange(buyer, currency, -cost, buyer_cash, "spent", date))
    add(BalanceChange(buyer, ITEM, amount, buyer_btc + fee_btc, "in", date))
    if fee_btc:
        add(BalanceChange(buyer, ITEM, -fee_btc, buyer_btc, "fee", date))
        add(BalanceChange(FEE_ACCOUNT, ITEM, fee_btc, fees_btc, "fee", date))


def _fill_orders(record: Record, add: Callable[[Event], None]) -> None:
    """What a trade did to both orders: the buy order first."""
    date, amount, taker_side, taker, maker, taker_left, maker_left = record[1], *record[4:10]
    if taker_side == BID:
        buy, sell, buy_left, sell_left = taker, maker, taker_left, maker_left
    else:
        buy, sell, buy_left, sell_left = maker, taker, maker_left, taker_left
    currency = buy.currency
    add(OrderUpdate(buy.oid, buy.user, BID, currency, buy.price, -amount, buy_left, 1, "filled", date))
    add(OrderUpdate(sell.oid, sell.user, ASK, currency, sell.price, -amount, sell_left, 1, "filled", date))
