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
    cancels reach both without looking them up. `filled`, `waiting_oid` and `met_own` say what
    placing the order did (MatchingEngine.place returns the order as its PlaceResult).
    """

    __slots__ = (
        "account",
        "amount",
        "created",
        "currency",
        "filled",
        "held",
        "level",
        "met_own",
        "oid",
        "price",
        "priority",
        "side",
        "status",
        "user",
        "waiting_oid",
    )

    # Set field by field: `Order()` then the fields (new_order, or written out on the engine's hot
    # path), since a class without __init__ is the cheapest to instantiate.
    oid: int
    user: str
    side: int
    currency: str
    price: int | None
    amount: int
    held: int
    status: int  # an OrderStatus value, kept as a plain int
    priority: int
    created: int
    account: "Account"
    level: "Level | None"
    filled: int  # traded when the order was placed
    waiting_oid: int | None  # the unfunded remainder split off when it was placed
    met_own: bool  # matching stopped at one of the owner's resting orders

    def __repr__(self) -> str:
        side = "ask" if self.side == ASK else "bid"
        return f"Order({self.oid}, {self.user}, {side}, {self.price}, {self.amount}, {OrderStatus(self.status).name})"


def new_order(
    oid: int,
    user: str,
    side: int,
    currency: str,
    price: int | None,
    amount: int,
    priority: int,
    created: int,
    account: "Account",
) -> Order:
    """A pending order that holds nothing and rests nowhere yet."""
    order = Order()
    order.oid = oid
    order.user = user
    order.side = side
    order.currency = currency
    order.price = price
    order.amount = amount
    order.held = 0
    order.status = int(OrderStatus.PENDING)
    order.priority = priority
    order.created = created
    order.account = account
    order.level = None
    order.filled = 0
    order.waiting_oid = None
    order.met_own = False
    return order
