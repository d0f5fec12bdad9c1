"""Orders as the engine holds them."""

from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.engine.book import Level
    from emulator.engine.ledger import Account

ASK = 1  # MtGox `type` 1: sell
BID = 2  # MtGox `type` 2: buy


class OrderStatus(IntEnum):
    PENDING = 0
    ACTIVE = 1
    NOT_ENOUGH_FUNDS = 2


class Order:
    """One order. `amount` is what remains; `held` is what the ledger reserves for it.

    For an ask the hold is BTC (equal to `amount`); for a bid it is currency, rounded up.
    `price` is None only for market orders, which never rest. `account` is the owner's ledger
    account and `level` the book level the order rests in (while it does), so that fills and
    cancels reach both without looking them up.
    """

    __slots__ = (
        "account",
        "amount",
        "created",
        "currency",
        "held",
        "level",
        "oid",
        "price",
        "priority",
        "side",
        "status",
        "user",
    )

    def __init__(
        self,
        oid: int,
        user: str,
        side: int,
        currency: str,
        price: int | None,
        amount: int,
        priority: int,
        created: int,
        account: "Account",
    ) -> None:
        # MatchingEngine.place sets these same fields without calling this (see there)
        self.oid = oid
        self.user = user
        self.side = side
        self.currency = currency
        self.price = price
        self.amount = amount
        self.held = 0
        self.status = int(OrderStatus.PENDING)  # an OrderStatus value, kept as a plain int
        self.priority = priority
        self.created = created
        self.account = account
        self.level: Level | None = None

    def __repr__(self) -> str:
        side = "ask" if self.side == ASK else "bid"
        return f"Order({self.oid}, {self.user}, {side}, {self.price}, {self.amount}, {OrderStatus(self.status).name})"
