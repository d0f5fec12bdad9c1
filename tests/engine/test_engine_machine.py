"""The engine as a specification: any sequence of operations keeps the market's invariants."""

from collections import defaultdict

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from emulator.engine import (
    ASK,
    BID,
    BalanceChange,
    DepthChange,
    Event,
    MatchingEngine,
    OrderStatus,
    OrderUpdate,
    Trade,
    facts,
)
from emulator.engine.ledger import InsufficientFunds
from emulator.engine.units import hold_for

USERS = ["alice", "bob", "carol"]
CURRENCIES = ("USD", "EUR")
prices = st.integers(min_value=1_000_000, max_value=1_020_000).map(lambda p: p - p % 1000)
amounts = st.integers(min_value=1, max_value=5 * 10**8)


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = MatchingEngine(CURRENCIES)
        self.external: dict[str, int] = defaultdict(int)  # deposits minus withdrawals
        self.now = 1_000_000
        # what the facts alone say: wallets, book depth and each order's remaining amount
        self.wallets: dict[tuple[str, str], int] = defaultdict(int)
        self.depth: dict[tuple[str, int, int], int] = defaultdict(int)
        self.remaining: dict[int, int] = defaultdict(int)

    def facts(self) -> list[Event]:
        """Drain the engine and replay its facts, checking each against what came before."""
        events = list(facts(self.engine.drain()))
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
        self.engine.deposit(user, currency, amount, self.tick())
        self.external[currency] += amount
        self.facts()

    @rule(user=st.sampled_from(USERS), currency=st.sampled_from(("BTC", *CURRENCIES)), amount=amounts)
    def withdraw(self, user: str, currency: str, amount: int) -> None:
        try:
            self.engine.withdraw(user, currency, amount, self.tick())
        except InsufficientFunds:
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
        result = self.engine.place(user, side, amount, price, self.tick(), currency)
        mine = [e for e in self.facts() if isinstance(e, Trade) and result.oid in (e.buy_oid, e.sell_oid)]
        filled = 0
        for trade, (oid, available) in zip(mine, queue, strict=False):
            assert (trade.sell_oid if side == BID else trade.buy_oid) == oid, "fills must follow price-time priority"
            filled += trade.amount
            if trade is not mine[-1]:
                assert trade.amount == available, "a maker is only partly filled when the taker is done"
        assert filled == result.filled
        if result.met_own:
            assert own is not None and filled == sum(left for _, left in queue), "it stopped at its owner's order"

    @rule(user=st.sampled_from(USERS), pick=st.integers(min_value=0, max_value=50))
    def cancel(self, user: str, pick: int) -> None:
        mine = self.engine.open_orders(user)
        if not mine:
            assert self.engine.cancel(user, 10**9, self.tick()) is None
            return
        order = mine[pick % len(mine)]
        assert self.engine.cancel(user, order.oid, self.tick()) is order
        assert order.oid not in self.engine.orders
        self.facts()

    @precondition(lambda self: self.engine.orders)
    @rule(user=st.sampled_from(USERS))
    def cancel_someone_elses(self, user: str) -> None:
        foreign = next((o for o in self.engine.orders.values() if o.user != user), None)
        if foreign is not None:
            assert self.engine.cancel(user, foreign.oid, self.tick()) is None
            assert foreign.oid in self.engine.orders

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


EngineMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestEngine = EngineMachine.TestCase
