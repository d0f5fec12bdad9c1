"""Orders as the engine holds them, the price levels they rest in, and the accounts that own them.

An order knows the level it rests in and a level holds its orders; an order knows its owner's
account and an account indexes its open orders. Each pair refers to each other, so they are defined
together (book.py arranges the levels into a book, ledger.py keeps the accounts).
"""

from collections import defaultdict
from enum import IntEnum

from emulator.engine.units import DEFAULT_FEE_PPM

ASK = 1  # MtGox `type` 1: sell
BID = 2  # MtGox `type` 2: buy


class Account:
    """A user's balances and holds, and (kept by the matching engine) their open orders by oid, in
    the order they were placed: what `open_orders` and a cancel by UUID read without scanning the book."""

    __slots__ = ("balance", "fee_ppm", "held", "name", "orders")

    def __init__(self, name: str, fee_ppm: int = DEFAULT_FEE_PPM) -> None:
        self.name = name
        self.fee_ppm = fee_ppm
        self.balance: defaultdict[str, int] = defaultdict(int)
        self.held: defaultdict[str, int] = defaultdict(int)
        self.orders: dict[int, Order] = {}

    def available(self, currency: str) -> int:
        # .get: reading must not create a zero entry, which a snapshot would then show
        return self.balance.get(currency, 0) - self.held.get(currency, 0)


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
    account: Account
    level: "Level | None"  # Level is defined below
    filled: int  # traded when the order was placed
    waiting_oid: int | None  # the unfunded remainder split off when it was placed
    met_own: bool  # matching stopped at one of the owner's resting orders

    def __repr__(self) -> str:
        side = "ask" if self.side == ASK else "bid"
        return f"Order({self.oid}, {self.user}, {side}, {self.price}, {self.amount}, {OrderStatus(self.status).name})"


class Level:
    """The orders resting at one price, oldest first, and their total amount.

    `orders` is an insertion-ordered dict (oid -> Order), so both the queue order and removal by oid
    are O(1). Made by `new_level`, or written out where the engine opens levels (a class without
    __init__ is the cheapest to instantiate)."""

    __slots__ = ("orders", "price", "volume")

    price: int
    orders: dict[int, Order]
    volume: int


def new_level(price: int) -> Level:
    level = Level()
    level.price = price
    level.orders = {}
    level.volume = 0
    return level


def new_order(
    oid: int,
    user: str,
    side: int,
    currency: str,
    price: int | None,
    amount: int,
    priority: int,
    created: int,
    account: Account,
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
