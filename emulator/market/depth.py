"""The part of a MtGox book that clients are shown: what `getDepth` answers and what BitcoinAverage's
`mtgox` order book channel streams, computed in one place so the two always agree.

Levels further than a factor of two from the last trade (or, before any trade, from the best price)
are left out, as MtGox's depth did: a stray order at a tenth of the price is not market depth.
"""

from typing import TYPE_CHECKING

from emulator.engine import ASK, BID

if TYPE_CHECKING:
    from emulator.market.world import World


def visible_depth(world: "World", currency: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(asks, bids) as (price, volume) levels in engine units, both sides by price ascending."""
    book = world.engine.books[currency]
    last = world.trades.last()
    reference = last.price if last else (book.best_bid() or book.best_ask() or 0)
    low, high = reference // 2, reference * 2
    asks = [(p, v) for p, v in book.depth(ASK) if low <= p <= high]
    bids = [(p, v) for p, v in reversed(book.depth(BID)) if low <= p <= high]
    return asks, bids
