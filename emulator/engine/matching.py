"""Price-time-priority matching with MtGox's funding rules.

- An order larger than the user's free funds is accepted: the funded part goes to the book and the
  rest waits with status 2 ("not enough funds") until a deposit, fill or cancel frees funds.
- Trades execute at the resting order's price; the buyer pays the fee in BTC, the seller in currency.
- A taker that meets its owner's resting order stops matching there (MtGox's original matching did,
  telling the user "Trying to sell from yourself?"): a limit order's remainder rests at its own
  price, so the book may be left crossed, the owner's bid at or above their ask and above any other
  orders the taker had not reached yet; the next order that reaches them trades with them as usual.
- Market orders take what the book and the user's funds allow (up to their owner's own order, as
  above); the rest is cancelled.
"""

from bisect import insort
from typing import Any, Protocol

from emulator.engine.book import OrderBook
from emulator.engine.events import CANCELLED, DEPTH, FILL, ITEM, MOVE, ORDER, RESTED, Record
from emulator.engine.ledger import Ledger
from emulator.engine.orders import ASK, BID, Account, Level, Order, OrderStatus, new_level, new_order
from emulator.engine.units import BTC_SCALE, MIN_ACTIVATION, PPM

# statuses as plain ints, which the interpreter compares faster than IntEnum members
ACTIVE = int(OrderStatus.ACTIVE)
WAITING = int(OrderStatus.NOT_ENOUGH_FUNDS)
NEG_BTC_SCALE = -BTC_SCALE  # -(x // NEG_BTC_SCALE) is x / BTC_SCALE rounded up, in one division


def _oid(order: Order) -> int:
    return order.oid


class PlaceResult(Protocol):
    """What placing an order did: `oid` is the order the client is told about (the funded part when
    there is one), `waiting_oid` the unfunded remainder stored with status 2, `filled` what traded,
    `met_own` whether matching stopped at one of its owner's resting orders.

    `place` returns the placed Order itself, whose `waiting_oid` and `filled` fields record this:
    one object fewer per placement, the commonest engine operation."""

    @property
    def oid(self) -> int: ...

    @property
    def waiting_oid(self) -> int | None: ...

    @property
    def filled(self) -> int: ...

    @property
    def met_own(self) -> bool: ...


class MatchingEngine:
    """The books, the ledger and the records of what changed (see events for the records)."""

    def __init__(self, currencies: tuple[str, ...] = ("USD",)) -> None:
        self.events: list[Record] = []
        self.ledger = Ledger()
        self.accounts = self.ledger.accounts  # the same dict, one lookup shorter on the hot path
        self.books = {currency: OrderBook(currency) for currency in currencies}
        self.orders: dict[int, Order] = {}  # every open order, active or waiting for funds
        self.waiting: dict[str, list[Order]] = {}  # user -> status-2 orders, oldest first
        self.next_oid = 1
        self.last_tid = 0
        self.last_priority = 0
        self._touched: dict[str, None] = {}  # users whose waiting orders may now be funded
        self._now = 0
        self._fee_balance = self.ledger.fees.balance  # looked up once: every fill books fees

    # -- public operations ------------------------------------------------------------------

    def place(
        self, user: str, side: int, amount: int, price: int | None, now: int, currency: str = "USD"
    ) -> PlaceResult:
        """Place a limit order (or a market order when price is None). Amount and price are > 0."""
        if amount <= 0 or (price is not None and price <= 0):
            raise ValueError("amount and price must be positive")
        book = self.books[currency]
        try:
            account = self.accounts[user]
        except KeyError:
            account = self.ledger.open(user)
        oid = self.next_oid
        self.next_oid = oid + 1
        # _next_priority written out
        priority = self.last_priority
        priority = now if now > priority else priority + 1
        self.last_priority = priority
        # new_order written out (the call costs more than the fields); held, status and level are
        # set below, on the path the order takes
        order = Order()
        order.oid = oid
        order.user = user
        order.side = side
        order.currency = currency
        order.price = price
        order.amount = amount
        order.priority = priority
        order.created = now
        order.account = account
        order.met_own = False
        if price is None:
            return self._place_market(order, book, now)
        # the hold the order needs, its level's key and the key the other side's best level must
        # reach for the order to cross (keys grow towards the best price on both sides)
        held = account.held
        if side == ASK:
            hold_currency = ITEM
            hold = amount
            own = book.asks
            key = -price
            opposite_keys = book.bids.keys
            bound = price
        else:
            hold_currency = currency
            hold = -(amount * price // NEG_BTC_SCALE)  # rounded up
            own = book.bids
            key = price
            opposite_keys = book.asks.keys
            bound = -price
        # free funds (balance less held) short of the hold: the order is split or waits; else
        # `holding` is what a resting order makes the hold
        holding = held[hold_currency] + hold
        if account.balance[hold_currency] < holding:
            return self._place_limit(order, book, now)
        self.orders[oid] = order
        account.orders[oid] = order
        if opposite_keys and opposite_keys[-1] >= bound:  # it crosses
            order.held = 0
            order.level = None
            order.filled = self._activate(account, order, book, amount, "added", now)
            self._settle(book, now)
        else:  # the commonest case: funded and not crossing, so it rests whole and wakes nobody
            held[hold_currency] = holding
            order.held = hold
            order.status = ACTIVE
            levels = own.levels
            level = levels.get(key)
            if level is None:  # new_level written out, with the order in it
                level = levels[key] = Level()
                level.price = price
                level.orders = {oid: order}
                level.volume = amount
                insort(own.keys, key)
            else:
                level.orders[oid] = order
                level.volume += amount
            order.level = level
            self.events.append((RESTED, order, amount, now))
            order.filled = 0
        order.waiting_oid = None
        return order

    def cancel(self, user: str, oid: int, now: int) -> Order | None:
        """Cancel one of the user's open orders; an unknown or foreign oid changes nothing."""
        orders = self.orders
        try:
            order = orders[oid]
        except KeyError:
            return None
        if order.user != user:
            return None
        del orders[oid]
        account = order.account
        del account.orders[oid]
        amount = order.amount
        if order.status == ACTIVE:
            level = order.level
            assert level is not None
            queue = level.orders
            del queue[oid]
            if order.side == ASK:
                account.held[ITEM] -= order.held
                if not queue:  # most cancels empty their level, whose volume then does not matter
                    self.books[order.currency].asks.drop(-level.price)
                else:
                    level.volume -= amount
            else:
                account.held[order.currency] -= order.held
                if not queue:
                    self.books[order.currency].bids.drop(level.price)
                else:
                    level.volume -= amount
            order.held = 0
            if user not in self.waiting:
                self.events.append((CANCELLED, order, amount, now))
                return order
            self.events.append((ORDER, order, -amount, 0, 1, "cancelled", now))
            key = -level.price if order.side == ASK else level.price
            self.books[order.currency].deltas[key] = -amount  # published after the wake-up below
        else:
            waiting = self.waiting
            queue_of_user = waiting[user]
            queue_of_user.remove(order)
            if not queue_of_user:
                del waiting[user]
            self.events.append((ORDER, order, -amount, 0, order.status, "cancelled", now))
            if user not in waiting:
                return order
        self._now = now
        self._touched[user] = None
        self._finish()
        return order

    def deposit(self, user: str, currency: str, amount: int, now: int) -> None:
        self._now = now
        balance = self.ledger.deposit(user, currency, amount)
        self.events.append((MOVE, user, currency, amount, balance, "deposit", now))
        self._touch(user)
        self._finish()

    def withdraw(self, user: str, currency: str, amount: int, now: int) -> None:
        self._now = now
        balance = self.ledger.withdraw(user, currency, amount)
        self.events.append((MOVE, user, currency, -amount, balance, "withdraw", now))

    def set_fee(self, user: str, fee_ppm: int) -> None:
        self.ledger.open(user).fee_ppm = fee_ppm

    def drain(self) -> list[Record]:
        """Hand over the records emitted since the last drain (`events.facts` expands them)."""
        events = self.events
        self.events = []
        return events

    def open_orders(self, user: str) -> list[Order]:
        """The user's open orders, active and waiting, in the order they were placed: read from the
        account's index (kept beside `orders` wherever an order opens or closes), not a scan of the
        book, as getOrders, every client's order or cancel and the flow's cancels ask for it."""
        account = self.accounts.get(user)
        if account is None:
            return []
        return sorted(account.orders.values(), key=_oid)

    # -- internals ---------------------------------------------------------------------------

    def _place_market(self, order: Order, book: OrderBook, now: int) -> Order:
        """A market order takes what the book and the funds allow; the rest is cancelled."""
        account = self._open(order, now)
        if order.side == ASK:  # a market sell is limited to the free BTC; a market buy fill by fill
            free = account.balance[ITEM] - account.held[ITEM]
            if free < order.amount:
                order.amount = free
        filled = self._activate(account, order, book, order.amount, "added", now)
        self._settle(book, now)
        order.waiting_oid = None
        order.filled = filled
        return order

    def _place_limit(self, order: Order, book: OrderBook, now: int) -> Order:
        """A limit order short of funds: the funded part is matched and rests, the rest waits with status 2."""
        account = self._open(order, now)
        amount = order.amount
        free = self._fundable(account, order, amount)
        rest = None
        if free < amount:
            if free <= 0:
                self._wait(order, None)
                self._finish()
                order.waiting_oid = None
                order.filled = 0
                return order
            rest = self._new_order(account, order.side, order.currency, order.price, amount - free)
            order.amount = free
        filled = self._activate(account, order, book, order.amount, "added", now)
        if rest is not None:
            self._wait(rest, None)
        self._finish()
        order.waiting_oid = None if rest is None else rest.oid
        order.filled = filled
        return order

    def _open(self, order: Order, now: int) -> Account:
        """Register a new order that takes one of the slower paths; its account."""
        self._now = now
        order.held = 0
        order.level = None
        self.orders[order.oid] = order
        account = order.account
        account.orders[order.oid] = order
        return account

    def _new_order(self, account: Account, side: int, currency: str, price: int | None, amount: int) -> Order:
        oid = self.next_oid
        self.next_oid = oid + 1
        now = self._now
        order = new_order(oid, account.name, side, currency, price, amount, self._next_priority(now), now, account)
        self.orders[oid] = order
        account.orders[oid] = order
        return order

    def _next_priority(self, now: int) -> int:
        """The time priority of an order entering now: the later of now and the last one + 1 (so
        orders of one instant keep their order). `place` writes this out."""
        priority = self.last_priority = max(now, self.last_priority + 1)
        return priority

    def _close(self, order: Order) -> None:
        del self.orders[order.oid]
        del order.account.orders[order.oid]

    def _fundable(self, account: Account, order: Order, amount: int) -> int:
        if order.side == ASK:
            return min(amount, account.available(ITEM))
        if order.price is None:
            return amount  # a market buy is limited fill by fill, at each fill's price
        return min(amount, account.available(order.currency) * BTC_SCALE // order.price)

    def _release(self, account: Account, order: Order) -> None:
        account.held[ITEM if order.side == ASK else order.currency] -= order.held
        order.held = 0

    def _wait(self, order: Order, after: Order | None) -> None:
        order.status = WAITING
        queue = self.waiting.setdefault(order.user, [])
        if after is None:
            queue.append(order)
        else:
            queue.insert(queue.index(after) + 1, order)
        self.events.append((ORDER, order, order.amount, order.amount, 2, "added", self._now))

    def _activate(self, account: Account, order: Order, book: OrderBook, delta: int, reason: str, now: int) -> int:
        """Match a funded order and rest what is left, holding funds for it; returns the amount filled.

        This is the hot path of every crossing order, so the matching and every fill are written
        out inline, and each fill is one FILL record (events.facts says what it stands for). Only
        a resting remainder needs a hold, so the taker's is taken once, at the end: nothing reads
        the taker's holds while it matches (a market buy, which checks its funds fill by fill,
        holds nothing).
        """
        events = self.events  # events.append(...) each time: cheaper than a bound method in a local
        order.status = ACTIVE
        side = order.side
        currency = order.currency
        price = order.price
        start = order.amount
        events.append((ORDER, order, delta, start, 1, reason, now))

        buying = side == BID
        opposite = book.asks if buying else book.bids
        keys = opposite.keys
        remaining = start
        if start and keys:
            levels = opposite.levels
            fee_balance = self._fee_balance
            orders_by_oid = self.orders
            waiting = self.waiting
            depth = book.deltas
            market_buy = price is None and buying
            taker_user = order.user
            # a trade id is the next one, or the time when that is later: every fill here shares
            # `now`, so only the first can jump, and starting from now - 1 makes it `tid + 1`
            tid = now - 1
            if tid < self.last_tid:
                tid = self.last_tid
            buyer = seller = account  # the taker's side; the maker's is set per fill
            # keys grow towards the best price on both sides (bids by price, asks by -price), so the
            # levels an order may take are those keyed at or above a bound (any level, for a market order)
            bound = keys[0] if price is None else -price if buying else price
            while remaining and keys:
                key = keys[-1]  # the best level: every level taken before it went whole
                if key < bound:
                    break
                level = levels[key]
                level_price = level.price
                makers = level.orders
                done: list[int] | None = None  # makers filled whole, removed after the walk
                traded = 0
                for maker in makers.values():
                    if maker.user == taker_user:  # the owner's own order: matching stops here
                        order.met_own = True
                        break
                    maker_amount = maker.amount
                    amount = maker_amount if maker_amount <= remaining else remaining
                    if market_buy:
                        affordable = (account.balance[currency] - account.held[currency]) * BTC_SCALE // level_price
                        if affordable < amount:
                            amount = affordable
                        if amount == 0:  # out of funds: what is left of it is cancelled below
                            break
                    maker_account = maker.account
                    traded += amount
                    remaining -= amount
                    maker_left = maker_amount - amount
                    maker.amount = maker_left
                    if buying:
                        seller = maker_account
                        # the maker's BTC leaves its hold (an ask holds exactly what it offers)
                        maker_account.held[ITEM] -= amount
                        maker.held = maker_left
                    else:
                        buyer = maker_account
                        # the maker's hold shrinks to what its rest needs at its price
                        keep = -(maker_left * level_price // NEG_BTC_SCALE)
                        maker_account.held[currency] -= maker.held - keep
                        maker.held = keep
                    cost = amount * level_price // BTC_SCALE
                    fee_btc = amount * buyer.fee_ppm // PPM
                    fee_cash = cost * seller.fee_ppm // PPM
                    # booked in the order facts() reports: the seller's BTC out and currency in
                    # less its fee, then the buyer's currency out and BTC in less its fee
                    balances = seller.balance
                    seller_btc = balances[ITEM] - amount
                    balances[ITEM] = seller_btc
                    seller_cash = balances[currency] + cost - fee_cash
                    balances[currency] = seller_cash
                    if fee_cash:
                        fees_cash = fee_balance[currency] + fee_cash
                        fee_balance[currency] = fees_cash
                    else:
                        fees_cash = 0
                    balances = buyer.balance
                    buyer_cash = balances[currency] - cost
                    balances[currency] = buyer_cash
                    buyer_btc = balances[ITEM] + amount - fee_btc
                    balances[ITEM] = buyer_btc
                    if fee_btc:
                        fees_btc = fee_balance[ITEM] + fee_btc
                        fee_balance[ITEM] = fees_btc
                    else:
                        fees_btc = 0
                    tid += 1
                    events.append(
                        (
                            FILL,
                            now,
                            tid,
                            level_price,
                            amount,
                            side,
                            order,
                            maker,
                            remaining,
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
                        )
                    )
                    if waiting:  # the buyer, then the seller, may now afford waiting orders
                        for party in (order.user, maker.user) if buying else (maker.user, order.user):
                            if party in waiting:
                                self._touched[party] = None
                    if not maker_left:
                        maker_oid = maker.oid
                        if done is None:
                            done = [maker_oid]
                        else:
                            done.append(maker_oid)
                        del orders_by_oid[maker_oid]
                        del maker_account.orders[maker_oid]
                    if not remaining:
                        break
                if done is not None:
                    if len(done) == len(makers):  # every maker filled whole: the level goes
                        makers.clear()  # in one go; a maker left in it would keep a cycle with its level
                        depth[key] = depth.get(key, 0) - traded
                        del levels[keys.pop()]
                        continue
                    for maker_oid in done:
                        del makers[maker_oid]
                if traded:
                    level.volume -= traded
                    depth[key] = depth.get(key, 0) - traded
                # the level keeps orders: more than the taker wanted, its owner's own, or ones a
                # market buy could not afford; either way matching ends here
                break
            if remaining != start:
                self.last_tid = tid
                order.amount = remaining

        if remaining:
            if price is None:  # a market order never rests
                self._close(order)
                self._release(account, order)  # holds nothing, but opens the held entry as a hold did
                events.append((ORDER, order, -remaining, 0, 1, "cancelled", now))
            else:
                if buying:
                    own = book.bids
                    key = price
                    hold = -(remaining * price // NEG_BTC_SCALE)
                    account.held[currency] += hold
                else:
                    own = book.asks
                    key = -price
                    hold = remaining
                    account.held[ITEM] += hold
                order.held = hold
                home = own.levels.get(key)
                if home is None:
                    home = own.levels[key] = new_level(price)
                    insort(own.keys, key)
                home.orders[order.oid] = order
                home.volume += remaining
                order.level = home
                depth = book.deltas
                depth[key] = depth.get(key, 0) + remaining
        else:
            del self.orders[order.oid]
            del account.orders[order.oid]
        return start - remaining

    def _settle(self, book: OrderBook, now: int) -> None:
        """_finish after an operation that matched in `book`: when it woke nobody, only that book's
        deltas are published, without walking every book."""
        if self._touched:
            self._now = now
            self._finish()
            return
        deltas = book.deltas
        if deltas:
            self.events.append((DEPTH, book.currency, deltas, now))
            book.deltas = {}

    def _touch(self, user: str) -> None:
        if user in self.waiting:
            self._touched[user] = None

    def _finish(self) -> None:
        """Wake waiting orders whose owners gained funds, then publish each book's depth deltas."""
        touched = self._touched
        while touched:
            user = next(iter(touched))
            del touched[user]
            self._wake(user)
        for book in self.books.values():
            if book.deltas:
                self.events.append((DEPTH, book.currency, book.deltas, self._now))
                book.deltas = {}

    def _wake(self, user: str) -> None:
        account = self.accounts[user]
        for order in list(self.waiting.get(user, ())):
            if order.oid not in self.orders or order.status != WAITING:
                continue
            funded = self._fundable(account, order, order.amount)
            before = order.amount
            if funded < order.amount:
                if funded < MIN_ACTIVATION:
                    continue
                rest = self._new_order(account, order.side, order.currency, order.price, order.amount - funded)
                order.amount = funded
                self._wait(rest, order)
            queue = self.waiting[user]
            queue.remove(order)
            if not queue:
                del self.waiting[user]
            order.priority = self._next_priority(self._now)
            self._activate(account, order, self.books[order.currency], order.amount - before, "activated", self._now)

    # -- snapshot ----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """All state as JSON-ready data; `restore` of it continues exactly where this left off."""
        return {
            "currencies": list(self.books),
            "next_oid": self.next_oid,
            "last_tid": self.last_tid,
            "last_priority": self.last_priority,
            "accounts": [[a.name, a.fee_ppm, dict(a.balance), dict(a.held)] for a in self.ledger.accounts.values()],
            "orders": [
                [o.oid, o.user, o.side, o.currency, o.price, o.amount, o.held, int(o.status), o.priority, o.created]
                for o in self.orders.values()
            ],
            "waiting": {user: [o.oid for o in orders] for user, orders in self.waiting.items()},
        }

    @classmethod
    def restore(cls, state: dict[str, Any]) -> "MatchingEngine":
        engine = cls(tuple(state["currencies"]))
        engine.next_oid = state["next_oid"]
        engine.last_tid = state["last_tid"]
        engine.last_priority = state["last_priority"]
        engine.ledger.accounts.clear()
        for name, fee_ppm, balance, held in state["accounts"]:
            account = engine.ledger.open(name, fee_ppm)
            account.balance.update(balance)
            account.held.update(held)
        engine._fee_balance = engine.ledger.fees.balance  # the restored fee account
        active = []
        for oid, user, side, currency, price, amount, held, status, priority, created in state["orders"]:
            account = engine.ledger.accounts[user]
            order = new_order(oid, user, side, currency, price, amount, priority, created, account)
            order.held = held
            order.status = status
            engine.orders[oid] = order
            account.orders[oid] = order
            if order.status == ACTIVE:
                active.append(order)
        for order in sorted(active, key=lambda o: o.priority):
            engine.books[order.currency].side(order.side).add(order)
        engine.waiting = {user: [engine.orders[oid] for oid in oids] for user, oids in state["waiting"].items()}
        return engine
