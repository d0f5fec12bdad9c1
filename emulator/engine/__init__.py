"""The pure trading domain: integer units, order books, matching and the ledger.

Nothing here does I/O, reads a clock or touches asyncio: callers pass the time in and drain the
events out, which is what makes the market deterministic and fast to test.
"""

from emulator.engine.events import (
    KINDS,
    BalanceChange,
    DepthChange,
    Event,
    OrderUpdate,
    Record,
    Trade,
    depth_changes,
    facts,
    trade_of,
)
from emulator.engine.ledger import Ledger
from emulator.engine.matching import MatchingEngine, PlaceResult
from emulator.engine.orders import ASK, BID, Account, Order, OrderStatus

__all__ = [
    "ASK",
    "BID",
    "KINDS",
    "Account",
    "BalanceChange",
    "DepthChange",
    "Event",
    "Ledger",
    "MatchingEngine",
    "Order",
    "OrderStatus",
    "OrderUpdate",
    "PlaceResult",
    "Record",
    "Trade",
    "depth_changes",
    "facts",
    "trade_of",
]
