"""Price-time-priority matching with MtGox's funding rules.

- An order larger than the user's free funds is accepted: the funded part goes to the book and the
  rest waits with status 2 ("not enough funds") until a deposit, fill or cancel frees funds.
- Trades execute at the resting order's price; the buyer pays the fee in BTC, the seller in currency.
- A taker skips its owner's resting orders; if what is left of it would then cross its owner's own
  orders, that remainder is cancelled rather than resting, so the book is never crossed.
- Market orders take what the book and the user's funds allow; the rest is cancelled.
"""

from bisect import insort
from dataclasses import dataclass
from typing import Any

from emulator.engine.book import Level, OrderBook
from emulator.engine.events import BalanceChange, DepthChange, OrderUpdate, Trade
from emulator.engine.ledger import FEE_ACCOUNT, Account, Ledger
from emulator.engine.orders import ASK, BID, Order, OrderStatus
from emulator.engine.units import BTC_SCALE, PPM

ITEM = "BTC"
ACTIVE = OrderStatus.ACTIVE
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
        account = self.ledger.accounts.get(user) or self.ledger.open(user)
        self._now = now
        # a new order (what _new_order does, written out: this is the hot path)
        oid = self.next_oid
        self.next_oid = oid + 1
        priority = self.last_priority + 1
        if now > priority:
            priority = now
        self.last_priority = priority
        order = Order(oid, user, side, currency, price, amount, priority, now)
        self.orders[oid] = order
        mine = self.by_user.get(user)
        if mine is None:
            mine = self.by_user[user] = {}
        mine[oid] = order
        # what the user's free funds pay for (reading balance, then held, like Account.available)
        if side == ASK:
            free = account.balance[ITEM] - account.held[ITEM]
            funded = amount if amount <= free else free
        elif price is None:
            funded = amount  # a market buy is limited fill by fill, at each fill's price
        else:
            free = (account.balance[currency] - account.held[currency]) * BTC_SCALE // price
            funded = amount if amount <= free else free
        rest = None
        if funded < amount and price is not None:
            if funded == 0:
                self._wait(order, None)
                self._finish()
                return PlaceResult(oid, None, 0)
            rest = self._new_order(user, side, currency, price, amount - funded)
            order.amount = funded
        elif price is None and side == ASK:
            order.amount = funded
        filled = self._activate(account, order, book, order.amount, "added")
        if rest is not None:
            self._wait(rest, None)
            self._finish()
            return PlaceResult(oid, rest.oid, filled)
        if self._touched:
            self._finish()
        else:  # _flush_depth, written out
            depth = self._depth
            if depth:
                append = self.events.append
                for (depth_currency, depth_side, depth_price), delta in depth.items():
                    if delta:
                        append(DepthChange(depth_currency, depth_side, depth_price, delta, now))
                depth.clear()
        return PlaceResult(oid, None, filled)

    def cancel(self, user: str, oid: int, now: int) -> Order | None:
        """Cancel one of the user's open orders; an unknown or foreign oid changes nothing."""
        orders = self.orders
        order = orders.get(oid)
        if order is None or order.user != user:
            return None
        self._now = now
        account = self.ledger.accounts[user]
        amount = order.amount
        side = order.side
        currency = order.currency
        price = order.price
        waiting = self.waiting
        if order.status == ACTIVE:
            assert price is not None
            book = self.books[currency]
            book_side = book.asks if side == ASK else book.bids
            key = -price if side == ASK else price
            level = book_side.levels[key]
            del level.orders[oid]
            level.volume -= amount
            if not level.orders:
                book_side.drop(key)
            depth = self._depth
            dkey = (currency, side, price)
            depth[dkey] = depth.get(dkey, 0) - amount
            account.held[ITEM if side == ASK else currency] -= order.held
            order.held = 0
            status = 1
        else:
            queue = waiting[user]
            queue.remove(order)
            if not queue:
                del waiting[user]
            status = int(order.status)
        del orders[oid]
        mine = self.by_user[user]
        del mine[oid]
        if not mine:
            del self.by_user[user]
        self.events.append(OrderUpdate(oid, user, side, currency, price, -amount, 0, status, "cancelled", now))
        if user in waiting:
            self._touched[user] = None
            self._finish()
        elif self._touched:
            self._finish()
        else:  # _flush_depth, written out
            depth = self._depth
            if depth:
                append = self.events.append
                for (depth_currency, depth_side, depth_price), delta in depth.items():
                    if delta:
                        append(DepthChange(depth_currency, depth_side, depth_price, delta, now))
                depth.clear()
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
        events = self.events
        self.events = self.ledger.events = []
        return events

    def open_orders(self, user: str) -> list[Order]:
        """The user's open orders, active and waiting, in the order they were placed."""
        return sorted(self.by_user.get(user, {}).values(), key=lambda o: o.oid)

    # -- internals ---------------------------------------------------------------------------

    def _new_order(self, user: str, side: int, currency: str, price: int | None, amount: int) -> Order:
        oid = self.next_oid
        self.next_oid = oid + 1
        now = self._now
        priority = self.last_priority + 1
        if now > priority:
            priority = now
        self.last_priority = priority
        order = Order(oid, user, side, currency, price, amount, priority, now)
        self.orders[oid] = order
        mine = self.by_user.get(user)
        if mine is None:
            mine = self.by_user[user] = {}
        mine[oid] = order
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
        """Hold funds for a funded order, match it, and rest what is left.

        This is the hot path, so the hold, the matching and every fill are written out inline;
        each wallet movement is still one BalanceChange, in the order Ledger.move would emit it.
        """
        now = self._now
        append = self.events.append
        order.status = ACTIVE
        oid = order.oid
        taker_user = order.user
        side = order.side
        currency = order.currency
        price = order.price
        start = order.amount
        if side == ASK:
            order.held = start
            account.held[ITEM] += start
        elif price is not None:
            order.held = -(-start * price // BTC_SCALE)
            account.held[currency] += order.held
        append(OrderUpdate(oid, taker_user, side, currency, price, delta, start, 1, reason, now))

        buying = side == BID
        opposite = book.asks if buying else book.bids
        keys = opposite.keys
        index = 0  # levels before this one (counted from the best) hold only the taker's own orders
        if start and keys:
            levels = opposite.levels
            accounts = self.ledger.accounts
            fees = accounts[FEE_ACCOUNT]
            orders_by_oid = self.orders
            by_user = self.by_user
            waiting = self.waiting
            touched = self._touched
            depth = self._depth
            market_buy = price is None and buying
            maker_side = ASK if buying else BID
            remaining = start
            while remaining and index < len(keys):
                level = levels[keys[-1 - index]]
                level_price = level.price
                if price is not None and (level_price > price if buying else level_price < price):
                    break
                makers = level.orders
                done: list[int] = []
                traded = 0
                stop = False
                for maker in makers.values():
                    maker_user = maker.user
                    if maker_user == taker_user:
                        continue
                    amount = maker.amount
                    if remaining < amount:
                        amount = remaining
                    if market_buy:
                        affordable = (account.balance[currency] - account.held[currency]) * BTC_SCALE // level_price
                        if affordable < amount:
                            amount = affordable
                        if amount == 0:
                            stop = True
                            break
                    maker_account = accounts[maker_user]
                    level.volume -= amount
                    traded += amount
                    if buying:
                        buy, sell, buyer, seller = order, maker, account, maker_account
                    else:
                        buy, sell, buyer, seller = maker, order, maker_account, account
                    cost = amount * level_price // BTC_SCALE
                    fee_btc = amount * buyer.fee_ppm // PPM
                    fee_cash = cost * seller.fee_ppm // PPM

                    # seller: BTC leaves the hold, currency arrives less the fee
                    seller.held[ITEM] -= amount
                    sell.held -= amount
                    name = seller.name
                    balances = seller.balance
                    value = balances[ITEM] - amount
                    balances[ITEM] = value
                    append(BalanceChange(name, ITEM, -amount, value, "out", now))
                    value = balances[currency] + cost
                    balances[currency] = value
                    append(BalanceChange(name, currency, cost, value, "earned", now))
                    if fee_cash:
                        value = balances[currency] - fee_cash
                        balances[currency] = value
                        append(BalanceChange(name, currency, -fee_cash, value, "fee", now))
                        value = fees.balance[currency] + fee_cash
                        fees.balance[currency] = value
                        append(BalanceChange(fees.name, currency, fee_cash, value, "fee", now))
                    # buyer: currency leaves (the hold shrinks to what the rest needs), BTC arrives less the fee
                    name = buyer.name
                    balances = buyer.balance
                    value = balances[currency] - cost
                    balances[currency] = value
                    append(BalanceChange(name, currency, -cost, value, "spent", now))
                    value = balances[ITEM] + amount
                    balances[ITEM] = value
                    append(BalanceChange(name, ITEM, amount, value, "in", now))
                    if fee_btc:
                        value = balances[ITEM] - fee_btc
                        balances[ITEM] = value
                        append(BalanceChange(name, ITEM, -fee_btc, value, "fee", now))
                        value = fees.balance[ITEM] + fee_btc
                        fees.balance[ITEM] = value
                        append(BalanceChange(fees.name, ITEM, fee_btc, value, "fee", now))
                    sell.amount -= amount
                    buy.amount -= amount
                    remaining -= amount
                    buy_price = buy.price
                    if buy_price is not None:
                        keep = -(-buy.amount * buy_price // BTC_SCALE)
                        buyer.held[currency] -= buy.held - keep
                        buy.held = keep

                    tid = self.last_tid + 1
                    if now > tid:
                        tid = now
                    self.last_tid = tid
                    buy_user = buy.user
                    sell_user = sell.user
                    append(Trade(tid, now, currency, level_price, amount, side, buy.oid, sell.oid, buy_user, sell_user))
                    append(
                        OrderUpdate(buy.oid, buy_user, BID, currency, buy_price, -amount, buy.amount, 1, "filled", now)
                    )
                    append(
                        OrderUpdate(
                            sell.oid, sell_user, ASK, currency, sell.price, -amount, sell.amount, 1, "filled", now
                        )
                    )
                    if buy_user in waiting:
                        touched[buy_user] = None
                    if sell_user in waiting:
                        touched[sell_user] = None

                    if maker.amount == 0:
                        maker_oid = maker.oid
                        done.append(maker_oid)
                        del orders_by_oid[maker_oid]
                        mine = by_user[maker_user]
                        del mine[maker_oid]
                        if not mine:
                            del by_user[maker_user]
                        if maker.held:
                            maker_account.held[ITEM if buying else currency] -= maker.held
                            maker.held = 0
                    if not remaining:
                        break
                for maker_oid in done:
                    del makers[maker_oid]
                if traded:
                    dkey = (currency, maker_side, level_price)
                    depth[dkey] = depth.get(dkey, 0) - traded
                if stop:  # a market buy out of funds: what is left of it is cancelled below
                    break
                if makers:
                    index += 1
                elif index:
                    opposite.drop(keys[-1 - index])
                else:
                    del levels[keys.pop()]

        remaining = order.amount
        if remaining:
            if price is None or index:  # market rest, or only the owner's own orders are left to cross
                self._close(order)
                self._release(account, order)
                append(OrderUpdate(oid, taker_user, side, currency, price, -remaining, 0, 1, "cancelled", now))
            else:
                assert price is not None
                own = book.bids if buying else book.asks
                key = price if buying else -price
                home = own.levels.get(key)
                if home is None:
                    home = own.levels[key] = Level(price)
                    insort(own.keys, key)
                home.orders[oid] = order
                home.volume += remaining
                depth = self._depth
                dkey = (currency, side, price)
                depth[dkey] = depth.get(dkey, 0) + remaining
        else:
            self._close(order)
            self._release(account, order)
        return start - remaining

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

    def _touch(self, user: str) -> None:
        if user in self.waiting:
            self._touched[user] = None

    def _finish(self) -> None:
        """Wake waiting orders whose owners gained funds, then publish the coalesced depth deltas."""
        while self._touched:
            user = next(iter(self._touched))
            del self._touched[user]
            self._wake(user)
        self._flush_depth(self._now)

    def _flush_depth(self, now: int) -> None:
        depth = self._depth
        if depth:
            append = self.events.append
            for (currency, side, price), delta in depth.items():
                if delta:
                    append(DepthChange(currency, side, price, delta, now))
            depth.clear()

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
