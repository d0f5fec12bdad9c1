"""Plain event objects the engine emits; the market fans them out, the APIs render them."""

from dataclasses import dataclass


@dataclass(slots=True)
class Trade:
    tid: int
    date: int  # microseconds of market time
    currency: str
    price: int
    amount: int
    taker_side: int  # ASK or BID: the side that took liquidity
    buy_oid: int
    sell_oid: int
    buyer: str
    seller: str


@dataclass(slots=True)
class DepthChange:
    """Signed change of the total volume resting at one price level."""

    currency: str
    side: int
    price: int
    delta: int
    date: int


@dataclass(slots=True)
class OrderUpdate:
    """An order was added, filled (partly or fully), activated or cancelled.

    `delta` is the change of the order's resting volume (negative on fills and cancels).
    """

    oid: int
    user: str
    side: int
    currency: str
    price: int | None
    delta: int
    remaining: int
    status: int
    reason: str  # "added", "filled", "activated", "cancelled"
    date: int


@dataclass(slots=True)
class BalanceChange:
    """One wallet movement, in MtGox's history vocabulary (in, out, spent, earned, fee, deposit, withdraw)."""

    user: str
    currency: str
    delta: int
    balance: int
    kind: str
    date: int


Event = Trade | DepthChange | OrderUpdate | BalanceChange
