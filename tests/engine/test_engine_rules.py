"""Examples pinning the MtGox rules a client relies on, with exact integer results."""

from collections import defaultdict
from typing import Any

from emulator.engine import ASK, BID, BalanceChange, MatchingEngine, OrderStatus, OrderUpdate, Record, Trade, facts

BTC = 10**8  # 1 BTC in satoshi
USD = 10**5  # 1 USD in price units
PRICE = 15 * USD
NOW = 1_000_000


def funded(**users: tuple[int, int]) -> MatchingEngine:
    """An engine where each user holds (btc, usd) in integer units."""
    engine = MatchingEngine()
    for user, (btc, usd) in users.items():
        if btc:
            engine.deposit(user, "BTC", btc, NOW)
        if usd:
            engine.deposit(user, "USD", usd, NOW)
    engine.drain()
    return engine


def of(records: list[Record], kind: type) -> list[Any]:
    """The facts of one kind among the engine's records."""
    return [e for e in facts(records) if isinstance(e, kind)]


def test_fee_is_065_percent_in_btc_for_the_buyer_and_in_usd_for_the_seller() -> None:
    engine = funded(seller=(2 * BTC, 0), buyer=(0, 100 * USD))
    engine.place("seller", ASK, BTC, PRICE, NOW)
    engine.place("buyer", BID, BTC, PRICE, NOW + 1)
    events = engine.drain()

    (trade,) = of(events, Trade)
    assert (trade.price, trade.amount, trade.taker_side) == (PRICE, BTC, BID)
    moves = [(e.user, e.currency, e.delta, e.kind) for e in of(events, BalanceChange)]
    assert moves == [
        ("seller", "BTC", -BTC, "out"),
        ("seller", "USD", 15 * USD, "earned"),
        ("seller", "USD", -9_750, "fee"),  # 0.65% of 15.00000 USD = 0.09750
        ("_fees", "USD", 9_750, "fee"),
        ("buyer", "USD", -15 * USD, "spent"),
        ("buyer", "BTC", BTC, "in"),
        ("buyer", "BTC", -650_000, "fee"),  # 0.65% of 1 BTC = 0.0065
        ("_fees", "BTC", 650_000, "fee"),
    ]
    accounts = engine.ledger.accounts
    assert accounts["seller"].balance == {"BTC": BTC, "USD": 15 * USD - 9_750}
    assert accounts["buyer"].balance == {"BTC": BTC - 650_000, "USD": 85 * USD}
    assert accounts["_fees"].balance == {"USD": 9_750, "BTC": 650_000}
    assert all(held == 0 for a in accounts.values() for held in a.held.values())


def test_fees_round_down_to_whole_units() -> None:
    engine = funded(seller=(BTC, 0), buyer=(0, 100 * USD))
    engine.place("seller", ASK, 123_457, 1_512_345, NOW)
    engine.place("buyer", BID, 123_457, 1_512_345, NOW + 1)
    fees = [e.delta for e in of(engine.drain(), BalanceChange) if e.user == "_fees"]
    cost = 123_457 * 1_512_345 // BTC  # 1867 units: rounded down, so trades never mint money
    assert cost == 1_867
    assert fees == [1_867 * 6_500 // 10**6, 123_457 * 6_500 // 10**6] == [12, 802]


def test_an_order_larger_than_free_funds_is_split_and_the_rest_waits_for_a_deposit() -> None:
    engine = funded(alice=(3 * BTC, 0))
    result = engine.place("alice", ASK, 5 * BTC, PRICE, NOW)
    assert result.waiting_oid is not None and result.filled == 0
    active, waiting = engine.orders[result.oid], engine.orders[result.waiting_oid]
    assert (active.amount, active.status) == (3 * BTC, OrderStatus.ACTIVE)
    assert (waiting.amount, waiting.status) == (2 * BTC, OrderStatus.NOT_ENOUGH_FUNDS)
    updates = [(e.oid, e.delta, e.status, e.reason) for e in of(engine.drain(), OrderUpdate)]
    assert updates == [(result.oid, 3 * BTC, 1, "added"), (result.waiting_oid, 2 * BTC, 2, "added")]
    assert engine.books["USD"].depth(ASK) == [(PRICE, 3 * BTC)]

    engine.deposit("alice", "BTC", 2 * BTC, NOW + 1)
    assert waiting.status == OrderStatus.ACTIVE
    assert engine.books["USD"].depth(ASK) == [(PRICE, 5 * BTC)]
    assert engine.ledger.accounts["alice"].held["BTC"] == 5 * BTC
    activated = of(engine.drain(), OrderUpdate)
    assert [(e.oid, e.delta, e.status, e.reason) for e in activated] == [(result.waiting_oid, 0, 1, "activated")]


def test_a_waiting_order_activates_when_a_cancel_frees_funds() -> None:
    engine = funded(alice=(0, 30 * USD))
    first = engine.place("alice", BID, 2 * BTC, PRICE, NOW)  # takes every dollar
    second = engine.place("alice", BID, BTC, PRICE - USD, NOW + 1)
    assert first.waiting_oid is None and second.waiting_oid is None
    assert engine.orders[second.oid].status == OrderStatus.NOT_ENOUGH_FUNDS
    engine.cancel("alice", first.oid, NOW + 2)
    assert engine.orders[second.oid].status == OrderStatus.ACTIVE
    assert engine.books["USD"].depth(BID) == [(PRICE - USD, BTC)]
    assert engine.ledger.accounts["alice"].held["USD"] == 14 * USD


def test_a_waiting_order_activates_when_a_fill_brings_funds() -> None:
    engine = funded(alice=(BTC, 0), bob=(0, 100 * USD))
    sale = engine.place("alice", ASK, 2 * BTC, PRICE, NOW)
    assert sale.waiting_oid is not None
    engine.place("bob", BID, BTC, PRICE, NOW + 1)  # fills the funded BTC...
    waiting = engine.orders[sale.waiting_oid]
    assert waiting.status == OrderStatus.NOT_ENOUGH_FUNDS, "...but a sale brings dollars, not bitcoins"
    bought = engine.place("alice", BID, BTC // 2, PRICE, NOW + 2)  # nothing rests for alice to buy
    assert bought.filled == 0
    engine.place("bob", ASK, BTC // 2, PRICE, NOW + 3)  # bob sells into alice's bid: alice gets BTC
    assert waiting.status == OrderStatus.ACTIVE
    assert waiting.amount == BTC // 2 - BTC // 2 * 6_500 // 10**6  # what she received, less the fee


def test_a_taker_stops_at_its_own_order_and_its_remainder_rests() -> None:
    engine = funded(alice=(10 * BTC, 100 * USD), bob=(10 * BTC, 0), carol=(10 * BTC, 0))
    before = engine.place("carol", ASK, BTC // 2, PRICE - USD, NOW)
    own = engine.place("alice", ASK, BTC, PRICE, NOW + 1)
    behind = engine.place("bob", ASK, BTC, PRICE, NOW + 2)  # behind alice's ask in the queue
    engine.drain()
    result = engine.place("alice", BID, BTC, PRICE, NOW + 3)
    (trade,) = of(engine.drain(), Trade)
    assert (trade.sell_oid, trade.amount) == (before.oid, BTC // 2), "carol's ask, ahead of alice's, trades"
    assert result.met_own and result.filled == BTC // 2
    assert {own.oid, behind.oid, result.oid} <= set(engine.orders), "both of alice's orders stay open"
    book = engine.books["USD"]
    assert book.depth(BID) == [(PRICE, BTC // 2)] and book.depth(ASK) == [(PRICE, 2 * BTC)]
    assert engine.ledger.accounts["alice"].held["USD"] == PRICE // 2, "the resting half holds its dollars"


def test_a_sell_that_meets_its_owners_bid_stops_and_a_market_order_drops_the_rest() -> None:
    engine = funded(alice=(10 * BTC, 1_000 * USD), bob=(0, 1_000 * USD))
    bid = engine.place("alice", BID, BTC, PRICE, NOW)
    engine.place("bob", BID, BTC, PRICE - USD, NOW + 1)
    engine.drain()
    limit = engine.place("alice", ASK, BTC, PRICE - USD, NOW + 2)
    assert limit.met_own and limit.filled == 0 and of(engine.drain(), Trade) == []
    assert engine.books["USD"].best_bid() == PRICE and engine.books["USD"].best_ask() == PRICE - USD
    market = engine.place("alice", ASK, BTC, None, NOW + 3)
    assert market.met_own and market.filled == 0 and market.oid not in engine.orders
    last = of(engine.drain(), OrderUpdate)[-1]
    assert (last.oid, last.delta, last.reason) == (market.oid, -BTC, "cancelled")
    assert bid.oid in engine.orders and limit.oid in engine.orders


def test_a_market_order_takes_liquidity_and_never_rests() -> None:
    engine = funded(alice=(BTC, 0), bob=(0, 1_000 * USD))
    engine.place("alice", ASK, BTC // 2, PRICE, NOW)
    engine.place("alice", ASK, BTC // 2, PRICE + USD, NOW + 1)
    engine.drain()
    result = engine.place("bob", BID, 2 * BTC, None, NOW + 2)
    events = engine.drain()
    assert [(t.price, t.amount) for t in of(events, Trade)] == [(PRICE, BTC // 2), (PRICE + USD, BTC // 2)]
    assert result.filled == BTC and result.waiting_oid is None
    assert result.oid not in engine.orders
    assert engine.books["USD"].depth(ASK) == [] and engine.books["USD"].depth(BID) == []
    last = of(events, OrderUpdate)[-1]
    assert (last.oid, last.delta, last.reason) == (result.oid, -BTC, "cancelled")
    assert engine.ledger.accounts["bob"].held["USD"] == 0

    nothing = engine.place("bob", ASK, BTC, None, NOW + 3)  # bob's BTC, but no bids: cancelled at once
    assert nothing.filled == 0 and nothing.oid not in engine.orders and engine.open_orders("bob") == []


def test_a_market_buy_stops_when_the_money_runs_out() -> None:
    engine = funded(alice=(10 * BTC, 0), bob=(0, 30 * USD))
    engine.place("alice", ASK, 10 * BTC, PRICE, NOW)
    result = engine.place("bob", BID, 10 * BTC, None, NOW + 1)
    assert result.filled == 2 * BTC
    assert engine.ledger.accounts["bob"].balance["USD"] == 0
    assert engine.open_orders("bob") == []


def test_cancel_of_an_unknown_or_foreign_order_changes_nothing() -> None:
    engine = funded(alice=(BTC, 0), bob=(0, 100 * USD))
    mine = engine.place("alice", ASK, BTC, PRICE, NOW)
    engine.drain()
    before = engine.snapshot()
    assert engine.cancel("bob", mine.oid, NOW + 1) is None
    assert engine.cancel("alice", 10**9, NOW + 1) is None
    assert engine.drain() == []
    assert engine.snapshot() == before
    cancelled = engine.cancel("alice", mine.oid, NOW + 2)
    assert cancelled is not None and cancelled.oid == mine.oid
    assert engine.cancel("alice", mine.oid, NOW + 3) is None


def test_order_updates_add_up_to_each_orders_remaining_amount() -> None:
    engine = funded(alice=(5 * BTC, 50 * USD), bob=(5 * BTC, 50 * USD), carol=(0, 0))
    steps: list[tuple[str, int, int, int | None]] = [
        ("alice", ASK, 2 * BTC, PRICE),
        ("bob", BID, 3 * BTC, PRICE),  # fills 2, rests 1... of what 50 USD buys
        ("alice", ASK, 7 * BTC, PRICE + USD),  # split: 3 active, 4 waiting
        ("bob", BID, BTC, None),
        ("carol", BID, BTC, PRICE),  # nothing funded: waits whole
        ("bob", ASK, BTC // 3, PRICE - USD),
    ]
    totals: dict[int, int] = defaultdict(int)
    for now, (user, side, amount, price) in enumerate(steps, NOW):
        engine.place(user, side, amount, price, now)
    engine.deposit("carol", "USD", 20 * USD, NOW + 10)
    engine.deposit("alice", "BTC", 2 * BTC, NOW + 11)
    for order in engine.open_orders("bob")[:1]:
        engine.cancel("bob", order.oid, NOW + 12)
    events = engine.drain()
    for update in of(events, OrderUpdate):
        totals[update.oid] += update.delta
    assert len(totals) >= 8
    for oid, total in totals.items():
        order = engine.orders.get(oid)
        assert total == (order.amount if order is not None else 0), oid


def test_open_orders_come_from_each_accounts_index_and_survive_a_restore() -> None:
    """open_orders reads the owner's index, not the book: placed, split, filled and cancelled orders
    come and go from it, and a restored engine lists the same orders in the same order."""
    engine = funded(alice=(3 * BTC, 0), bob=(0, 20 * USD))
    first = engine.place("alice", ASK, BTC, PRICE, NOW)
    second = engine.place("alice", ASK, BTC, PRICE + USD, NOW)
    split = engine.place("bob", BID, 2 * BTC, PRICE - USD, NOW)  # funds for about 1.4 BTC: the rest waits
    assert split.waiting_oid is not None
    assert [o.oid for o in engine.open_orders("alice")] == [first.oid, second.oid]
    assert [o.oid for o in engine.open_orders("bob")] == [split.oid, split.waiting_oid]
    engine.place("bob", BID, BTC // 2, None, NOW + 1)  # a market buy takes half of alice's first ask
    engine.cancel("bob", split.oid, NOW + 2)
    assert [o.oid for o in engine.open_orders("alice")] == [first.oid, second.oid]
    restored = MatchingEngine.restore(engine.snapshot())
    for user in ("alice", "bob", "nobody"):
        mine = [o.oid for o in engine.orders.values() if o.user == user]
        assert [o.oid for o in engine.open_orders(user)] == mine
        assert [o.oid for o in restored.open_orders(user)] == mine
    engine.place("carol", BID, BTC, PRICE + USD, NOW + 3)  # unfunded: carol's order waits whole
    engine.deposit("carol", "USD", 20 * USD, NOW + 4)  # and is woken: it takes alice's first ask
    assert [o.oid for o in engine.open_orders("alice")] == [second.oid]
    assert engine.open_orders("carol") == []
