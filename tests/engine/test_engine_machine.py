"""The engine as a specification: any sequence of operations keeps the market's invariants, and the
fast engine does exactly what the plain reference engine (emulator.engine.reference) does."""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from emulator.engine import (
    ASK,
    BID,
    BalanceChange,
    DepthChange,
    Event,
    MatchingEngine,
    OrderStatus,
    OrderUpdate,
    Record,
    Trade,
    facts,
)
from emulator.engine.ledger import InsufficientFunds, Ledger
from emulator.engine.reference import ReferenceEngine
from emulator.engine.units import hold_for

USERS = ["alice", "bob", "carol"]
CURRENCIES = ("USD", "EUR")
prices = st.integers(min_value=1_000_000, max_value=1_020_000).map(lambda p: p - p % 1000)
amounts = st.integers(min_value=1, max_value=5 * 10**8)
little_cash = st.integers(min_value=1, max_value=6 * 10**6)  # up to about 5 BTC at the prices above
fee_rates = st.sampled_from((0, 1, 2_000, 6_500, 10_000, 250_000))


def plain(record: Record) -> tuple[Any, ...]:
    """A record with each order as its unchanging fields and each DEPTH change dict as its items in
    order, so that the two engines' records compare (each engine has its own Order objects)."""
    items: list[Any] = []
    for item in record:
        if hasattr(item, "oid"):
            items.append(("order", item.oid, item.user, item.side, item.currency, item.price))
        elif isinstance(item, dict):
            items.append(list(item.items()))
        else:
            items.append(item)
    return tuple(items)


def outcome(operation: Callable[[], Any]) -> Any:
    """What an operation returned, or the type of what it raised."""
    try:
        return operation()
    except (InsufficientFunds, ValueError) as exc:
        return type(exc)


def funds(ledger: Ledger) -> dict[str, tuple[int, dict[str, int], dict[str, int]]]:
    """Each account's fee rate, balances and holds; a zero entry is no entry (the two engines open
    entries at different moments, and nothing tells a zero entry from none)."""
    return {
        name: (
            account.fee_ppm,
            {currency: amount for currency, amount in account.balance.items() if amount},
            {currency: amount for currency, amount in account.held.items() if amount},
        )
        for name, account in ledger.accounts.items()
    }


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = MatchingEngine(CURRENCIES)
        self.reference = ReferenceEngine(CURRENCIES)  # given every operation the engine is given
        self.external: dict[str, int] = defaultdict(int)  # deposits minus withdrawals
        self.now = 1_000_000
        # what the facts alone say: wallets, book depth and each order's remaining amount
        self.wallets: dict[tuple[str, str], int] = defaultdict(int)
        self.depth: dict[tuple[str, int, int], int] = defaultdict(int)
        self.remaining: dict[int, int] = defaultdict(int)

    def facts(self) -> list[Event]:
        """Drain both engines, check they said the same, and replay the facts, checking each against
        what came before."""
        records = self.engine.drain()
        assert [plain(r) for r in records] == [plain(r) for r in self.reference.drain()], "the reference disagrees"
        events = list(facts(records))
        for event in events:
            if isinstance(event, BalanceChange):
                key = (event.user, event.currency)
                self.wallets[key] += event.delta
                assert event.balance == self.wallets[key], "a movement's balance follows from the ones before"
            elif isinstance(event, DepthChange):
                self.depth[event.currency, event.side, event.price] += event.delta
            elif isinstance(event, OrderUpdate):
                self.remaining[event.oid] += event.delta
                assert event.remaining == self.remaining[event.oid], "an update's remainder sums its deltas"
        return events

    def tick(self) -> int:
        self.now += 1_000
        return self.now

    @rule(user=st.sampled_from(USERS), currency=st.sampled_from(("BTC", *CURRENCIES)), amount=amounts)
    def deposit(self, user: str, currency: str, amount: int) -> None:
        now = self.tick()
        self.engine.deposit(user, currency, amount, now)
        self.reference.deposit(user, currency, amount, now)
        self.external[currency] += amount
        self.facts()

    @rule(user=st.sampled_from(USERS), currency=st.sampled_from(CURRENCIES), amount=little_cash)
    def deposit_a_little(self, user: str, currency: str, amount: int) -> None:
        """Currency in amounts of about an order's cost, so that bids wait for funds as asks do."""
        self.deposit(user, currency, amount)

    @rule(user=st.sampled_from(USERS), currency=st.sampled_from(("BTC", *CURRENCIES)), amount=amounts)
    def withdraw(self, user: str, currency: str, amount: int) -> None:
        now = self.tick()
        done = outcome(lambda: self.engine.withdraw(user, currency, amount, now))
        assert outcome(lambda: self.reference.withdraw(user, currency, amount, now)) == done
        if done is InsufficientFunds:
            return
        self.external[currency] -= amount
        self.facts()

    @rule(
        user=st.sampled_from(USERS),
        side=st.sampled_from((ASK, BID)),
        amount=amounts,
        price=prices | st.none(),
        currency=st.sampled_from(CURRENCIES),
    )
    def place(self, user: str, side: int, amount: int, price: int | None, currency: str) -> None:
        book = self.engine.books[currency]
        opposite = book.asks if side == BID else book.bids
        # the queue a correct engine must consume: best price first, then time, up to the owner's
        # first order, where matching stops
        reachable = [
            order
            for level in opposite.iter_levels()
            if price is None or (level.price <= price if side == BID else level.price >= price)
            for order in level.orders.values()
        ]
        own = next((i for i, order in enumerate(reachable) if order.user == user), None)
        queue = [(order.oid, order.amount) for order in reachable[:own]]
        now = self.tick()
        result = self.engine.place(user, side, amount, price, now, currency)
        told = self.reference.place(user, side, amount, price, now, currency)
        assert (told.oid, told.waiting_oid, told.filled, told.met_own) == (
            result.oid,
            result.waiting_oid,
            result.filled,
            result.met_own,
        )
        mine = [e for e in self.facts() if isinstance(e, Trade) and result.oid in (e.buy_oid, e.sell_oid)]
        # a market buy short of funds for a whole maker takes what it can afford of each order left at
        # that price (trade costs round down, so a little may be left): partly filled makers there
        short_buy = price is None and side == BID
        filled = 0
        for trade, (oid, available) in zip(mine, queue, strict=False):
            assert (trade.sell_oid if side == BID else trade.buy_oid) == oid, "fills must follow price-time priority"
            filled += trade.amount
            if trade is not mine[-1] and not (short_buy and trade.price == mine[-1].price):
                assert trade.amount == available, "a maker is only partly filled when the taker is done"
        assert filled == result.filled
        if result.met_own:
            assert own is not None, "it stopped at its owner's order"
            if not short_buy:
                assert filled == sum(left for _, left in queue), "it took every order before its owner's"

    @rule(user=st.sampled_from(USERS), pick=st.integers(min_value=0, max_value=50))
    def cancel(self, user: str, pick: int) -> None:
        mine = self.engine.open_orders(user)
        now = self.tick()
        if not mine:
            assert self.engine.cancel(user, 10**9, now) is None
            assert self.reference.cancel(user, 10**9, now) is None
            return
        order = mine[pick % len(mine)]
        assert self.engine.cancel(user, order.oid, now) is order
        cancelled = self.reference.cancel(user, order.oid, now)
        assert cancelled is not None and cancelled.oid == order.oid
        assert order.oid not in self.engine.orders
        self.facts()

    @precondition(lambda self: self.engine.orders)
    @rule(user=st.sampled_from(USERS))
    def cancel_someone_elses(self, user: str) -> None:
        foreign = next((o for o in self.engine.orders.values() if o.user != user), None)
        if foreign is not None:
            now = self.tick()
            assert self.engine.cancel(user, foreign.oid, now) is None
            assert self.reference.cancel(user, foreign.oid, now) is None
            assert foreign.oid in self.engine.orders

    @rule(user=st.sampled_from(USERS), fee_ppm=fee_rates)
    def set_fee(self, user: str, fee_ppm: int) -> None:
        self.engine.set_fee(user, fee_ppm)
        self.reference.set_fee(user, fee_ppm)

    @invariant()
    def the_reference_engine_agrees(self) -> None:
        """Same records (checked as they are drained), and the same funds, orders, queues and book."""
        self.facts()
        engine, reference = self.engine, self.reference
        assert funds(engine.ledger) == funds(reference.ledger)
        for user in engine.ledger.accounts:
            assert [
                (o.oid, o.side, o.currency, o.price, o.amount, o.held, o.status, o.priority, o.created, o.met_own)
                for o in engine.open_orders(user)
            ] == [
                (o.oid, o.side, o.currency, o.price, o.amount, o.held, o.status, o.priority, o.created, o.met_own)
                for o in reference.open_orders(user)
            ]
            assert [o.oid for o in engine.waiting.get(user, [])] == [
                o.oid for o in reference.waiting if o.user == user
            ], "the same waiting orders, tried in the same order"
        for currency, book in engine.books.items():
            for side in (ASK, BID):
                assert book.depth(side) == reference.depth(currency, side)
        assert (engine.next_oid, engine.last_tid, engine.last_priority) == (
            reference.next_oid,
            reference.last_tid,
            reference.last_priority,
        )

    @invariant()
    def facts_add_up_to_the_state(self) -> None:
        """Wallet history, depth deltas and order updates, replayed, give balances, book and orders."""
        self.facts()
        for account in self.engine.ledger.accounts.values():
            for currency, balance in account.balance.items():
                assert self.wallets[account.name, currency] == balance
        book = {
            (currency, side, level.price): level.volume
            for currency, engine_book in self.engine.books.items()
            for side in (ASK, BID)
            for level in engine_book.side(side).iter_levels()
        }
        assert {key: volume for key, volume in self.depth.items() if volume} == book
        assert {oid: left for oid, left in self.remaining.items() if left} == {
            oid: order.amount for oid, order in self.engine.orders.items()
        }

    @invariant()
    def only_a_taker_stopped_by_its_owner_crosses_the_book(self) -> None:
        """An order rests crossing another only when its matching stopped at its owner's order: every
        other remainder rests once nothing it could take is left."""
        for book in self.engine.books.values():
            for bid_level in book.bids.iter_levels():
                for ask_level in book.asks.iter_levels():
                    if ask_level.price > bid_level.price:
                        break
                    for bid in bid_level.orders.values():
                        for ask in ask_level.orders.values():
                            assert bid.met_own or ask.met_own, (bid, ask)

    @invariant()
    def funds_are_conserved(self) -> None:
        totals = self.engine.ledger.totals()
        for currency in ("BTC", *CURRENCIES):
            assert totals.get(currency, 0) == self.external[currency]

    @invariant()
    def nothing_is_negative_and_holds_are_backed(self) -> None:
        for account in self.engine.ledger.accounts.values():
            for currency, balance in account.balance.items():
                assert balance >= 0
                assert 0 <= account.held[currency] <= balance

    @invariant()
    def resting_orders_are_fully_funded(self) -> None:
        held: dict[tuple[str, str], int] = defaultdict(int)
        for order in self.engine.orders.values():
            assert order.amount > 0
            if order.status != OrderStatus.ACTIVE:
                assert order.held == 0
                continue
            assert order.price is not None
            if order.side == ASK:
                assert order.held == order.amount
                held[order.user, "BTC"] += order.held
            else:
                assert order.held >= hold_for(order.amount, order.price)
                held[order.user, order.currency] += order.held
        for account in self.engine.ledger.accounts.values():
            for currency, amount in account.held.items():
                assert amount == held[account.name, currency]

    @invariant()
    def depth_equals_resting_orders(self) -> None:
        expected: dict[tuple[str, int, int], int] = defaultdict(int)
        for order in self.engine.orders.values():
            if order.status == OrderStatus.ACTIVE:
                assert order.price is not None
                expected[order.currency, order.side, order.price] += order.amount
        seen: dict[tuple[str, int, int], int] = {}
        for currency, book in self.engine.books.items():
            for side in (ASK, BID):
                for level in book.side(side).iter_levels():
                    assert level.volume == sum(o.amount for o in level.orders.values())
                    priorities = [o.priority for o in level.orders.values()]
                    assert priorities == sorted(priorities), "a level is a time-ordered queue"
                    seen[currency, side, level.price] = level.volume
        assert seen == dict(expected)

    @invariant()
    def waiting_orders_are_listed(self) -> None:
        waiting = {o.oid for orders in self.engine.waiting.values() for o in orders}
        expected = {o.oid for o in self.engine.orders.values() if o.status == OrderStatus.NOT_ENOUGH_FUNDS}
        assert waiting == expected

    @invariant()
    def each_account_indexes_exactly_its_open_orders(self) -> None:
        for account in self.engine.ledger.accounts.values():
            scanned = [o for o in self.engine.orders.values() if o.user == account.name]
            assert list(account.orders.values()) == scanned, "the index keeps the order of placement"
            assert self.engine.open_orders(account.name) == sorted(scanned, key=lambda o: o.oid)


def run_machine(examples: int, steps: int) -> None:
    run_state_machine_as_test(
        EngineMachine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_engine_machine() -> None:
    run_machine(150, 40)


@pytest.mark.long
def test_engine_machine_long() -> None:
    run_machine(1_000, 60)
