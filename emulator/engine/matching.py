"""Price-time-priority matching with MtGox's funding rules.

- An order larger than the user's free funds is accepted: the funded part goes to the book and the
  rest waits with status 2 ("not enough funds") until a deposit, fill or cancel frees funds.
- Trades execute at the resting order's price; the buyer pays the fee in BTC, the seller in currency.
- A taker skips its owner's resting orders; if what is left of it would then cross its owner's own
  orders, that remainder is cancelled rather than resting, so the book is never crossed.
- Market orders take what the book and the user's funds allow; the rest is cancelled.
"""

from dataclasses import dataclass
from typing import Any

from emulator.engine.book import OrderBook
from emulator.engine.events import DepthChange, OrderUpdate, Trade
from emulator.engine.ledger import Account, Ledger
from emulator.engine.orders import ASK, BID, Order, OrderStatus
from emulator.engine.units import BTC_SCALE, PPM, hold_for

ITEM = "BTC"
MIN_ACTIVATION = 10**6  # a waiting order is woken in parts no smaller than 0.01 BTC


@dataclass(slots=True)
class PlaceResult:
    oid: int  # the order the client is told about (the funded part when there is one)
    waiting_oid: int | None  # the unfunded remainder, stored with status 2
    filled: int


class MatchingEngine:
    def __init__(self, currencies: tuple[str, ...] = ("USD",)) -> None:
        self.events: list[Any] = []
        self.ledger = Ledger(self.events)
        self.books = {currency: OrderBook(currency) for currency in currencies}
        self.orders: dict[int, Order] = {}  # every open order, active or waiting for funds
        self.by_user: dict[str, dict[int, Order]] = {}
        self.waiting: dict[str, list[Order]] = {}  # user -> status-2 orders, oldest first
        self.next_oid = 1
        self.last_tid = 0
        self.last_priority = 0
        self._depth: dict[tuple[str, int, int], int] = {}
        self._touched: dict[str, None] = {}
        self._now = 0

    # -- public operations ------------------------------------------------------------------

    def place(
        self, user: str, side: int, amount: int, price: int | None, now: int, currency: str = "USD"
    ) -> PlaceResult:
        """Place a limit order (or a market order when price is None). Amount and price are > 0."""
        if amount <= 0 or (price is not None and price <= 0):
            raise ValueError("amount and price must be positive")
        book = self.books[currency]
        account = self.ledger.open(user)
        self._now = now
        order = self._new_order(user, side, currency, price, amount)
        funded = self._fundable(account, order, amount)
        waiting_oid = None
        filled = 0
        if funded < amount and price is not None:
            if funded == 0:
                self._wait(order, None)
                self._finish()
                return PlaceResult(order.oid, None, 0)
            rest = self._new_order(user, side, currency, price, amount - funded)
            order.amount = funded
            waiting_oid = rest.oid
        else:
            order.amount = funded if price is None and side == ASK else amount
        filled = self._activate(account, order, book, order.amount, "added")
        if waiting_oid is not None:
            self._wait(self.orders[waiting_oid], None)
        self._finish()
        return PlaceResult(order.oid, waiting_oid, filled)

    def cancel(self, user: str, oid: int, now: int) -> Order | None:
        """Cancel one of the user's open orders; an unknown or foreign oid changes nothing."""
        order = self.orders.get(oid)
        if order is None or order.user != user:
            return None
        self._now = now
        account = self.ledger.accounts[user]
        if order.status == OrderStatus.ACTIVE:
            self.books[order.currency].side(order.side).remove(order)
            self._depth_delta(order, -order.amount)
            self._release(account, order)
        else:
            self.waiting[user].remove(order)
            if not self.waiting[user]:
                del self.waiting[user]
        self._close(order)
        self._update(order, -order.amount, "cancelled")
        self._touch(user)
        self._finish()
        return order

    def deposit(self, user: str, currency: str, amount: int, now: int) -> None:
        self._now = now
        self.ledger.deposit(user, currency, amount, now)
        self._touch(user)
        self._finish()

    def withdraw(self, user: str, currency: str, amount: int, now: int) -> None:
        self._now = now
        self.ledger.withdraw(user, currency, amount, now)

    def set_fee(self, user: str, fee_ppm: int) -> None:
        self.ledger.open(user).fee_ppm = fee_ppm

    def drain(self) -> list[Any]:
        """Hand over the events emitted since the last drain."""
        events = self.events[:]
        self.events.clear()
        return events

    def open_orders(self, user: str) -> list[Order]:
        """The user's open orders, active and waiting, in the order they were placed."""
        return sorted(self.by_user.get(user, {}).values(), key=lambda o: o.oid)

    # -- internals ---------------------------------------------------------------------------

    def _new_order(self, user: str, side: int, currency: str, price: int | None, amount: int) -> Order:
        oid = self.next_oid
        self.next_oid = oid + 1
        priority = self.last_priority = max(self._now, self.last_priority + 1)
        order = Order(oid, user, side, currency, price, amount, priority, self._now)
        self.orders[oid] = order
        self.by_user.setdefault(user, {})[oid] = order
        return order

    def _close(self, order: Order) -> None:
        del self.orders[order.oid]
        mine = self.by_user[order.user]
        del mine[order.oid]
        if not mine:
            del self.by_user[order.user]

    def _fundable(self, account: Account, order: Order, amount: int) -> int:
        if order.side == ASK:
            return min(amount, account.available(ITEM))
        if order.price is None:
            return amount  # a market buy is limited fill by fill, at each fill's price
        return min(amount, account.available(order.currency) * BTC_SCALE // order.price)

    def _hold(self, account: Account, order: Order) -> None:
        if order.side == ASK:
            order.held = order.amount
            account.held[ITEM] += order.amount
        elif order.price is not None:
            order.held = hold_for(order.amount, order.price)
            account.held[order.currency] += order.held

    def _release(self, account: Account, order: Order) -> None:
        account.held[ITEM if order.side == ASK else order.currency] -= order.held
        order.held = 0

    def _wait(self, order: Order, after: Order | None) -> None:
        order.status = OrderStatus.NOT_ENOUGH_FUNDS
        queue = self.waiting.setdefault(order.user, [])
        if after is None:
            queue.append(order)
        else:
            queue.insert(queue.index(after) + 1, order)
        self._update(order, order.amount, "added")

    def _activate(self, account: Account, order: Order, book: OrderBook, delta: int, reason: str) -> int:
        """Hold funds for a funded order, match it, and rest what is left."""
        order.status = OrderStatus.ACTIVE
        self._hold(account, order)
        self._update(order, delta, reason)
        start = order.amount
        self._match(account, order, book)
        filled = start - order.amount
        if order.amount:
            opposite = book.asks if order.side == BID else book.bids
            best = opposite.best()
            crosses = order.price is None or (
                best is not None and (best.price <= order.price if order.side == BID else best.price >= order.price)
            )
            if crosses:  # market rest, or only the owner's own orders are left to cross
                self._close(order)
                self._release(account, order)
                self._update(order, -order.amount, "cancelled")
            else:
                book.side(order.side).add(order)
                self._depth_delta(order, order.amount)
        else:
            self._close(order)
            self._release(account, order)
        return filled

    def _match(self, account: Account, taker: Order, book: OrderBook) -> None:
        levels = (book.asks if taker.side == BID else book.bids).levels
        limit = taker.price
        buying = taker.side == BID
        index = 0
        while taker.amount and index < len(levels):
            level = levels.peekitem(index)[1]
            price = level.price
            if limit is not None and (price > limit if buying else price < limit):
                break
            for maker in list(level.orders.values()):
                if maker.user == taker.user:
                    continue
                amount = min(taker.amount, maker.amount)
                if limit is None and buying:
                    amount = min(amount, account.available(taker.currency) * BTC_SCALE // price)
                    if amount == 0:
                        return
                maker_account = self.ledger.accounts[maker.user]
                level.volume -= amount
                self._depth_delta(maker, -amount)
                if buying:
                    self._fill(taker, maker, account, maker_account, price, amount, BID)
                else:
                    self._fill(maker, taker, maker_account, account, price, amount, ASK)
                if maker.amount == 0:
                    del level.orders[maker.oid]
                    self._close(maker)
                    self._release(maker_account, maker)
                if not taker.amount:
                    break
            if level.orders:
                index += 1
            else:
                del levels[levels.keys()[index]]

    def _fill(
        self, buy: Order, sell: Order, buyer: Account, seller: Account, price: int, amount: int, taker_side: int
    ) -> None:
        now = self._now
        currency = buy.currency
        cost = amount * price // BTC_SCALE
        fee_btc = amount * buyer.fee_ppm // PPM
        fee_cash = cost * seller.fee_ppm // PPM
        ledger = self.ledger
        fees = ledger.fees

        # seller: BTC leaves the hold, currency arrives less the fee
        seller.held[ITEM] -= amount
        sell.held -= amount
        ledger.move(seller, ITEM, -amount, "out", now)
        ledger.move(seller, currency, cost, "earned", now)
        if fee_cash:
            ledger.move(seller, currency, -fee_cash, "fee", now)
            ledger.move(fees, currency, fee_cash, "fee", now)
        # buyer: currency leaves (the hold shrinks to what the rest needs), BTC arrives less the fee
        ledger.move(buyer, currency, -cost, "spent", now)
        ledger.move(buyer, ITEM, amount, "in", now)
        if fee_btc:
            ledger.move(buyer, ITEM, -fee_btc, "fee", now)
            ledger.move(fees, ITEM, fee_btc, "fee", now)
        sell.amount -= amount
        buy.amount -= amount
        if buy.price is not None:
            keep = hold_for(buy.amount, buy.price)
            buyer.held[currency] -= buy.held - keep
            buy.held = keep

        tid = self.last_tid = max(now, self.last_tid + 1)
        self.events.append(Trade(tid, now, currency, price, amount, taker_side, buy.oid, sell.oid, buy.user, sell.user))
        self._update(buy, -amount, "filled")
        self._update(sell, -amount, "filled")
        self._touch(buy.user)
        self._touch(sell.user)

    def _update(self, order: Order, delta: int, reason: str) -> None:
        self.events.append(
            OrderUpdate(
                order.oid,
                order.user,
                order.side,
                order.currency,
                order.price,
                delta,
                order.amount,
                int(order.status),
                reason,
                self._now,
            )
        )

    def _depth_delta(self, order: Order, delta: int) -> None:
        key = (order.currency, order.side, order.price or 0)
        self._depth[key] = self._depth.get(key, 0) + delta

    def _touch(self, user: str) -> None:
        if user in self.waiting:
            self._touched[user] = None

    def _finish(self) -> None:
        """Wake waiting orders whose owners gained funds, then publish the coalesced depth deltas."""
        while self._touched:
            user = next(iter(self._touched))
            del self._touched[user]
            self._wake(user)
        if self._depth:
            now = self._now
            for (currency, side, price), delta in self._depth.items():
                if delta:
                    self.events.append(DepthChange(currency, side, price, delta, now))
            self._depth.clear()

    def _wake(self, user: str) -> None:
        account = self.ledger.accounts[user]
        for order in list(self.waiting.get(user, ())):
            if order.oid not in self.orders or order.status != OrderStatus.NOT_ENOUGH_FUNDS:
                continue
            funded = self._fundable(account, order, order.amount)
            before = order.amount
            if funded < order.amount:
                if funded < MIN_ACTIVATION:
                    continue
                rest = self._new_order(user, order.side, order.currency, order.price, order.amount - funded)
                order.amount = funded
                self._wait(rest, order)
            queue = self.waiting[user]
            queue.remove(order)
            if not queue:
                del self.waiting[user]
            order.priority = self.last_priority = max(self._now, self.last_priority + 1)
            self._activate(account, order, self.books[order.currency], order.amount - before, "activated")

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
        active = []
        for oid, user, side, currency, price, amount, held, status, priority, created in state["orders"]:
            order = Order(oid, user, side, currency, price, amount, priority, created)
            order.held = held
            order.status = OrderStatus(status)
            engine.orders[oid] = order
            engine.by_user.setdefault(user, {})[oid] = order
            if order.status == OrderStatus.ACTIVE:
                active.append(order)
        for order in sorted(active, key=lambda o: o.priority):
            engine.books[order.currency].side(order.side).add(order)
        engine.waiting = {user: [engine.orders[oid] for oid in oids] for user, oids in state["waiting"].items()}
        return engine
