"""The matching rules written to be read: a plain engine that the property tests run beside the fast one.

`emulator.engine.matching.MatchingEngine` is the engine the market runs. Its hot paths are written
out by hand (no helper calls, locals for attribute lookups, one record per trade built in place),
which makes it fast and hard to check by eye. This module states the same rules with none of that:
every open order sits in one dict, the book is found by scanning it, and each step is a named
method. `tests/engine/test_engine_machine.py` drives both engines with the same operations and
asserts that they emit identical records and end in identical state, so a change to the fast one
that changes behaviour fails against this code.

The rules (MtGox's, as of 2011):

Price-time priority.
    A new order trades with the resting orders of the other side one price level at a time, best
    price first (the lowest ask for a buyer, the highest bid for a seller), and within a level
    oldest first (the smallest `priority`), each resting order once. A limit order takes only
    prices at or better than its own; a market order takes any price. Each trade is at the resting
    (maker) order's price. Matching goes on to the next level only when it took the whole level
    before; it ends at a level it leaves orders in: the new order was done, or it met its owner's
    own order (MtGox did not let a user trade with themselves; the new order's `met_own` says so,
    and its remainder rests, so the book may be left crossed), or it is a market buy that ran short
    of funds (which takes what it can afford of each order at that price, see `take_from_level`).
    A limit order's remainder rests in the book behind the orders already at its price; a market
    order's remainder is cancelled.

Holds.
    A resting order reserves ("holds") what it may need to pay: an ask holds the BTC it offers, a
    bid holds its amount times its price in the currency, rounded up (`units.hold_for`). A user's
    free funds are their balance less their holds. When a maker is partly filled its hold shrinks
    to what its remainder needs. A taker holds nothing while it matches (nothing reads its holds
    then) and takes the hold for its remainder when that rests.

Funding and waiting orders.
    A limit order bigger than its owner's free funds is still accepted: the part the funds cover
    keeps the order's id and is matched and rests as usual; the rest becomes a new order with the
    next id and status 2 ("not enough funds"), holding nothing and resting nowhere. An order the
    funds do not cover at all waits whole. Each user's waiting orders form a queue. When the user
    may have gained free funds (a deposit, a trade of theirs, a cancel of theirs while orders
    wait), the queue is tried in order: an order the free funds cover is activated whole (it gets a
    new time priority and is matched like a new order); one they cover in part, by at least 0.01
    BTC, is split, the covered part activated and the rest waiting in its place; others keep
    waiting. A market sell is cut to the owner's free BTC; a market buy is limited trade by trade,
    at each trade's price, by the owner's free currency.

Fees and settlement.
    Each trade moves money at once, in this order: the seller gives the BTC and earns the cost
    (amount times price, rounded down) less their fee on it, which goes to the fee account; the
    buyer spends the cost and gets the BTC less their fee on it, which goes to the fee account.
    Fees are each account's rate in parts per million of what it receives, rounded down (0.65% by
    default). A trade id is the later of the trade's time and the last trade id plus one.

Records.
    What changed is reported as the records described in `emulator.engine.events` (RESTED,
    CANCELLED, ORDER, FILL, DEPTH, MOVE). An order that rests whole without meeting the other side
    is one RESTED record and a resting order cancelled while its owner has nothing waiting is one
    CANCELLED record; every other change of the book's volume is collected per book during an
    operation and reported in one DEPTH record per book at its end, after the waiting orders of
    everyone who may have gained funds have been tried.

Integers throughout: BTC in 1e-8, prices and currency in 1e-5 (see `units`), time in microseconds.
"""

from dataclasses import dataclass

from emulator.engine.events import CANCELLED, DEPTH, FILL, ITEM, MOVE, ORDER, RESTED, Record
from emulator.engine.ledger import Ledger
from emulator.engine.orders import ASK, BID, Account, OrderStatus
from emulator.engine.units import BTC_SCALE, MIN_ACTIVATION, PPM, hold_for

PENDING = int(OrderStatus.PENDING)
ACTIVE = int(OrderStatus.ACTIVE)
WAITING = int(OrderStatus.NOT_ENOUGH_FUNDS)


@dataclass(eq=False)  # eq=False: orders are told apart by identity, as the fast engine's are
class Order:
    """One open order. `amount` is what remains of it; `held` is what it reserves of its owner's
    funds (nothing unless it rests); `price` is None for a market order."""

    oid: int
    user: str
    side: int  # ASK or BID
    currency: str
    price: int | None
    amount: int
    priority: int  # time priority: smaller is older
    created: int
    held: int = 0
    status: int = PENDING  # an OrderStatus value
    met_own: bool = False  # matching stopped at one of its owner's resting orders


@dataclass(frozen=True)
class PlaceResult:
    """What placing an order did: `oid` is the order the client is told about (the funded part when
    there is one), `waiting_oid` the unfunded remainder that waits with status 2, `filled` what
    traded, `met_own` whether matching stopped at one of its owner's resting orders."""

    oid: int
    waiting_oid: int | None
    filled: int
    met_own: bool


class ReferenceEngine:
    """The same operations and records as MatchingEngine, by the plainest means."""

    def __init__(self, currencies: tuple[str, ...] = ("USD",)) -> None:
        self.currencies = currencies
        self.ledger = Ledger()
        self.orders: dict[int, Order] = {}  # every open order, resting (ACTIVE) or WAITING
        self.waiting: list[Order] = []  # the WAITING orders in the order they are tried
        self.records: list[Record] = []
        self.next_oid = 1
        self.last_tid = 0
        self.last_priority = 0
        # during an operation: users who may have gained free funds, in the order they did, and
        # each book's volume changes keyed as the DEPTH record has them (price for bids, -price for asks)
        self.to_wake: list[str] = []
        self.depth_changes: dict[str, dict[int, int]] = {currency: {} for currency in currencies}

    # -- operations ------------------------------------------------------------------------------

    def place(
        self, user: str, side: int, amount: int, price: int | None, now: int, currency: str = "USD"
    ) -> PlaceResult:
        """Place a limit order, or a market order when price is None. Amount and price are > 0."""
        if amount <= 0 or (price is not None and price <= 0):
            raise ValueError("amount and price must be positive")
        if currency not in self.currencies:
            raise KeyError(currency)
        account = self.ledger.open(user)
        order = self.new_order(user, side, currency, price, amount, now)
        self.orders[order.oid] = order
        if price is None:
            return self.place_market(order, account, now)
        if account.available(self.hold_currency(order)) < self.hold_needed(order):
            return self.place_short_of_funds(order, account, now)
        if not self.best_level(order):
            # nothing to trade with: the order rests whole, told in one RESTED record
            self.rest(order)
            self.records.append((RESTED, order, order.amount, now))
            return PlaceResult(order.oid, None, 0, False)
        filled = self.activate(order, account, order.amount, "added", now)
        self.settle(now)
        return PlaceResult(order.oid, None, filled, order.met_own)

    def cancel(self, user: str, oid: int, now: int) -> Order | None:
        """Cancel one of the user's open orders; an unknown or foreign oid changes nothing."""
        order = self.orders.get(oid)
        if order is None or order.user != user:
            return None
        del self.orders[oid]
        if order.status == ACTIVE:
            self.set_hold(order, 0)
            if not self.has_waiting(user):
                self.records.append((CANCELLED, order, order.amount, now))
                return order
            self.records.append((ORDER, order, -order.amount, 0, ACTIVE, "cancelled", now))
            self.change_depth(order, -order.amount)
        else:
            self.waiting.remove(order)
            self.records.append((ORDER, order, -order.amount, 0, order.status, "cancelled", now))
            if not self.has_waiting(user):
                return order
        # the owner's waiting orders are tried: the cancel of a resting order freed its hold (and
        # after the cancel of a waiting one the queue is tried all the same)
        self.wake_later(user)
        self.settle(now)
        return order

    def deposit(self, user: str, currency: str, amount: int, now: int) -> None:
        balance = self.ledger.deposit(user, currency, amount)
        self.records.append((MOVE, user, currency, amount, balance, "deposit", now))
        if self.has_waiting(user):
            self.wake_later(user)
        self.settle(now)

    def withdraw(self, user: str, currency: str, amount: int, now: int) -> None:
        """Take free funds out (raises ledger.InsufficientFunds when they fall short)."""
        balance = self.ledger.withdraw(user, currency, amount)
        self.records.append((MOVE, user, currency, -amount, balance, "withdraw", now))

    def set_fee(self, user: str, fee_ppm: int) -> None:
        self.ledger.open(user).fee_ppm = fee_ppm

    def drain(self) -> list[Record]:
        """Hand over the records emitted since the last drain."""
        records = self.records
        self.records = []
        return records

    def open_orders(self, user: str) -> list[Order]:
        """The user's open orders, resting and waiting, in the order they were placed."""
        return sorted((order for order in self.orders.values() if order.user == user), key=lambda o: o.oid)

    def depth(self, currency: str, side: int) -> list[tuple[int, int]]:
        """(price, total amount) per price resting on one side of one book, best price first."""
        volumes: dict[int, int] = {}
        for order in self.resting(currency, side):
            assert order.price is not None
            volumes[order.price] = volumes.get(order.price, 0) + order.amount
        return sorted(volumes.items(), reverse=side == BID)

    # -- placing ---------------------------------------------------------------------------------

    def new_order(self, user: str, side: int, currency: str, price: int | None, amount: int, now: int) -> Order:
        """A pending order with the next id and time priority."""
        oid = self.next_oid
        self.next_oid += 1
        return Order(oid, user, side, currency, price, amount, self.next_priority(now), now)

    def next_priority(self, now: int) -> int:
        """The later of now and the last priority given plus one, so orders of one instant keep
        their order."""
        self.last_priority = max(now, self.last_priority + 1)
        return self.last_priority

    def place_market(self, order: Order, account: Account, now: int) -> PlaceResult:
        """A market order takes what the book and its owner's funds allow; the rest is cancelled."""
        if order.side == ASK:
            order.amount = min(order.amount, account.available(ITEM))
        filled = self.activate(order, account, order.amount, "added", now)
        self.settle(now)
        return PlaceResult(order.oid, None, filled, order.met_own)

    def place_short_of_funds(self, order: Order, account: Account, now: int) -> PlaceResult:
        """A limit order bigger than the free funds: the funded part trades and rests, the rest waits."""
        funded = self.fundable(order, account)
        if funded <= 0:
            self.wait(order, now)
            self.settle(now)
            return PlaceResult(order.oid, None, 0, False)
        # funded < amount: funds that covered the whole amount would cover its hold, rounded up or not
        assert funded < order.amount
        rest = self.new_order(order.user, order.side, order.currency, order.price, order.amount - funded, now)
        self.orders[rest.oid] = rest
        order.amount = funded
        filled = self.activate(order, account, funded, "added", now)
        self.wait(rest, now)
        self.settle(now)
        return PlaceResult(order.oid, rest.oid, filled, order.met_own)

    # -- matching --------------------------------------------------------------------------------

    def activate(self, order: Order, account: Account, delta: int, reason: str, now: int) -> int:
        """Match a funded order against the book, then rest what is left (or cancel it, for a
        market order); returns the amount traded. `delta` and `reason` are what its ORDER record
        says: its change of amount ("added" or, for a woken order, "activated")."""
        order.status = ACTIVE
        self.records.append((ORDER, order, delta, order.amount, ACTIVE, reason, now))
        start = order.amount
        while order.amount > 0:
            level = self.best_level(order)
            if not level:
                break
            self.take_from_level(order, account, level, now)
            if any(maker.amount > 0 for maker in level):
                break  # it did not take the whole level: matching ends here
        if order.amount == 0:
            del self.orders[order.oid]
        elif order.price is None:
            del self.orders[order.oid]
            self.records.append((ORDER, order, -order.amount, 0, ACTIVE, "cancelled", now))
        else:
            self.rest(order)
            self.change_depth(order, order.amount)
        return start - order.amount

    def take_from_level(self, taker: Order, account: Account, level: list[Order], now: int) -> None:
        """Trade with the orders of one price level, oldest first, each at most once, until the taker
        is done, meets its owner's order or, buying at market, can afford nothing more.

        A market buy short of funds for a whole maker takes the part it can afford and goes on to the
        next order at that price: each trade's cost rounds down, so a little may be left."""
        for maker in level:
            if maker.user == taker.user:
                taker.met_own = True  # no trading with oneself
                return
            amount = min(taker.amount, maker.amount)
            if taker.price is None and taker.side == BID:  # a market buy pays as it goes
                assert maker.price is not None
                amount = min(amount, account.available(taker.currency) * BTC_SCALE // maker.price)
                if amount == 0:
                    return
            self.trade(taker, maker, amount, now)
            if taker.amount == 0:
                return

    def best_level(self, taker: Order) -> list[Order]:
        """The resting orders the taker meets first: those at the best price of the other side, oldest
        first; none when that price is worse than the taker's own limit."""
        opposite = self.resting(taker.currency, BID if taker.side == ASK else ASK)
        if not opposite:
            return []
        prices = [maker.price for maker in opposite if maker.price is not None]
        best = min(prices) if taker.side == BID else max(prices)
        if taker.price is not None and (best > taker.price if taker.side == BID else best < taker.price):
            return []
        return sorted((maker for maker in opposite if maker.price == best), key=lambda maker: maker.priority)

    def trade(self, taker: Order, maker: Order, amount: int, now: int) -> None:
        """One trade at the maker's price: the orders shrink, the maker's hold with it, the money
        moves (with the fees), and a FILL record tells all of it."""
        price = maker.price
        assert price is not None
        currency = taker.currency
        buy, sell = (taker, maker) if taker.side == BID else (maker, taker)
        buyer = self.ledger.account(buy.user)
        seller = self.ledger.account(sell.user)
        fees = self.ledger.fees

        taker.amount -= amount
        maker.amount -= amount
        self.set_hold(maker, self.hold_needed(maker))
        self.change_depth(maker, -amount)
        if maker.amount == 0:
            del self.orders[maker.oid]

        cost = amount * price // BTC_SCALE
        fee_btc = amount * buyer.fee_ppm // PPM
        fee_cash = cost * seller.fee_ppm // PPM
        # each balance is read right after its own movement: the record carries those
        seller_btc = self.move(seller, ITEM, -amount)
        seller_cash = self.move(seller, currency, cost - fee_cash)
        fees_cash = self.move(fees, currency, fee_cash) if fee_cash else 0
        buyer_cash = self.move(buyer, currency, -cost)
        buyer_btc = self.move(buyer, ITEM, amount - fee_btc)
        fees_btc = self.move(fees, ITEM, fee_btc) if fee_btc else 0

        self.last_tid = max(now, self.last_tid + 1)
        self.records.append(
            (
                FILL,
                now,
                self.last_tid,
                price,
                amount,
                taker.side,
                taker,
                maker,
                taker.amount,
                maker.amount,
                cost,
                fee_cash,
                fee_btc,
                seller_btc,
                seller_cash,
                fees_cash,
                buyer_cash,
                buyer_btc,
                fees_btc,
            )
        )
        for party in (buy.user, sell.user):  # both may now afford orders they have waiting
            if self.has_waiting(party):
                self.wake_later(party)

    def rest(self, order: Order) -> None:
        """Put a limit order in the book, holding what it needs."""
        order.status = ACTIVE
        self.set_hold(order, self.hold_needed(order))

    # -- waiting orders --------------------------------------------------------------------------

    def wait(self, order: Order, now: int, after: Order | None = None) -> None:
        """Queue an order for lack of funds (at the end of the queue, or right after `after`)."""
        order.status = WAITING
        place = len(self.waiting) if after is None else self.waiting.index(after) + 1
        self.waiting.insert(place, order)
        self.records.append((ORDER, order, order.amount, order.amount, WAITING, "added", now))

    def has_waiting(self, user: str) -> bool:
        return any(order.user == user for order in self.waiting)

    def wake_later(self, user: str) -> None:
        """Note that a user's waiting orders are to be tried when the operation ends."""
        if user not in self.to_wake:
            self.to_wake.append(user)

    def wake(self, user: str, now: int) -> None:
        """Try a user's waiting orders in queue order (see the module docstring). Orders split off
        here join the queue but are not tried in this pass."""
        account = self.ledger.account(user)
        for order in [order for order in self.waiting if order.user == user]:
            funded = self.fundable(order, account)
            before = order.amount
            if funded < order.amount:
                if funded < MIN_ACTIVATION:
                    continue
                rest = self.new_order(user, order.side, order.currency, order.price, order.amount - funded, now)
                self.orders[rest.oid] = rest
                order.amount = funded
                self.wait(rest, now, after=order)
            self.waiting.remove(order)
            order.priority = self.next_priority(now)
            self.activate(order, account, order.amount - before, "activated", now)

    def fundable(self, order: Order, account: Account) -> int:
        """How much of a limit order its owner's free funds cover."""
        assert order.price is not None
        if order.side == ASK:
            return min(order.amount, account.available(ITEM))
        return min(order.amount, account.available(order.currency) * BTC_SCALE // order.price)

    def settle(self, now: int) -> None:
        """End an operation: try the waiting orders of those who may have gained funds (which may
        trade, and so add to the list), then report each book's volume changes."""
        while self.to_wake:
            self.wake(self.to_wake.pop(0), now)
        for currency, changes in self.depth_changes.items():
            if changes:
                self.records.append((DEPTH, currency, changes, now))
                self.depth_changes[currency] = {}

    # -- holds, money and the book ---------------------------------------------------------------

    def hold_currency(self, order: Order) -> str:
        return ITEM if order.side == ASK else order.currency

    def hold_needed(self, order: Order) -> int:
        """What a resting limit order of this amount must hold: its BTC for an ask, its cost rounded
        up for a bid."""
        assert order.price is not None
        return order.amount if order.side == ASK else hold_for(order.amount, order.price)

    def set_hold(self, order: Order, hold: int) -> None:
        account = self.ledger.account(order.user)
        account.held[self.hold_currency(order)] += hold - order.held
        order.held = hold

    def move(self, account: Account, currency: str, delta: int) -> int:
        """Change a balance; returns the new balance."""
        account.balance[currency] += delta
        return account.balance[currency]

    def resting(self, currency: str, side: int) -> list[Order]:
        """The orders in the book on one side, found by scanning every open order."""
        return [
            order
            for order in self.orders.values()
            if order.currency == currency and order.side == side and order.status == ACTIVE
        ]

    def change_depth(self, order: Order, delta: int) -> None:
        """Add to the volume change of the order's price level during this operation."""
        assert order.price is not None
        key = -order.price if order.side == ASK else order.price
        changes = self.depth_changes[order.currency]
        changes[key] = changes.get(key, 0) + delta
