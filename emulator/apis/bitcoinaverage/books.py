"""Order books and trades of the BitcoinAverage exchanges, for the `websocket/v2/orderbooks` and
`websocket/v2/trades` channels (spec §5). Integers here; emulator.apis.bitcoinaverage.rendering
turns them into frames.

- `mtgox` is the world's MtGox engine: its book is what `getDepth` shows (emulator.market.depth, the
  same function), its trades are the trade log `getTrades` reads.
- Every other exchange's book and trades are made up around its own numbers (View.stats, what
  `exchanges/{name}` shows), as pure functions of (seed, exchange, symbol, second), so they are the
  same every run and for every subscriber:
  - Book: `DEPTH` levels a side. The best bid and ask are the exchange's bid and ask, at the
    precision `exchanges/{name}` shows them, so the best prices of the book and of the ticker are the
    same numbers at the same second. Deeper levels sit on a grid of `STEP_PPM` of the price, rounded
    down to a power of ten of the shown precision, so a level keeps its price while the top moves.
    A level's amount is hashed from its price and a period of its own (15 s to 2 min), so a few
    levels change each second instead of all of them: scaled to the exchange's nominal 24 h volume.
  - Trades: in each second, none to three (0.64 on average), sized so that a day of them adds up
    to the exchange's 24 h volume. The last one of a second is at the exchange's `last` price of that
    second, a buy if `last` rose since the second before, else a sell; earlier ones are buys at the
    ask or sells at the bid. An inactive exchange stops trading when its numbers stop.
"""

from dataclasses import dataclass

from emulator.apis.bitcoinaverage import rendering
from emulator.apis.bitcoinaverage.catalog import Catalog
from emulator.apis.bitcoinaverage.noise import GOLDEN, MASK, key_of, uniform
from emulator.apis.bitcoinaverage.prices import DAY, PRICE, PriceModel
from emulator.apis.bitcoinaverage.view import View
from emulator.apis.bitcoinaverage.weighting import MTGOX, MTGOX_SYMBOL, MTGOX_UNITS
from emulator.engine import BID
from emulator.market.clock import MICROS
from emulator.market.depth import visible_depth
from emulator.market.world import World

DEPTH = 25  # levels a side of a generated book
STEP_PPM = 200  # grid of a generated book's deeper levels, in millionths of the price
LEVEL_VOLUME = 4000  # a level holds about 1/4000 of the exchange's 24 h volume
LOT = 10_000  # amounts are whole multiples of 0.0001 of the crypto
TRADE_ODDS = (0.55, 0.85, 0.96)  # a second has more than 0, 1, 2 trades beyond these draws
TRADES_PER_SECOND = 0.30 + 2 * 0.11 + 3 * 0.04  # the mean of that draw
ENGINE_CURRENCY = MTGOX_SYMBOL[3:]
TRADE_PAGE = 100_000

ASK_SIDE, BID_SIDE = "ask", "bid"
Level = tuple[int, int]  # (price, amount)
Change = tuple[str, int, int]  # (side, price, new amount: 0 deletes the level)


@dataclass(frozen=True, slots=True)
class Book:
    """One exchange's book of one symbol: price -> amount, best price first on each side."""

    asks: dict[int, int]
    bids: dict[int, int]


@dataclass(frozen=True, slots=True)
class Deal:
    """One trade as the trades channel shows it; `cursor` orders a stream (MtGox: the tid, other
    exchanges: the second)."""

    cursor: int
    time: int  # unix seconds
    price: int  # PRICE units
    amount: int  # AMOUNT units
    side: str  # the taker's: "buy" or "sell"


def diff(old: Book, new: Book) -> list[Change]:
    """What turns `old` into `new`: every level that changed, with its new amount (0: gone), asks then
    bids, best price first."""
    out: list[Change] = []
    for side, before, after, sign in ((ASK_SIDE, old.asks, new.asks, 1), (BID_SIDE, old.bids, new.bids, -1)):
        changed = [(p, 0) for p in before if p not in after]
        changed += [(p, a) for p, a in after.items() if before.get(p) != a]
        out += [(side, p, a) for p, a in sorted(changed, key=lambda level: level[0] * sign)]
    return out


# -- books ----------------------------------------------------------------------------------------


def book_of(view: View, exchange: str, symbol: str) -> Book | None:
    """The exchange's book at the view's second (None if it does not trade the symbol), made once per
    view: the view is cached per world version and second, which is exactly what a book depends on."""
    memo_key = ("book", exchange, symbol)
    found = view.memo.get(memo_key)
    if isinstance(found, Book):
        return found
    book = (
        engine_book(view.world)
        if exchange == MTGOX and symbol == MTGOX_SYMBOL
        else generated_book(view, exchange, symbol)
    )
    if book is not None:
        view.memo[memo_key] = book
    return book


def engine_book(world: World) -> Book:
    asks, bids = visible_depth(world, ENGINE_CURRENCY)
    return Book({p * MTGOX_UNITS: v for p, v in asks}, {p * MTGOX_UNITS: v for p, v in reversed(bids)})


def shown(units: int) -> int:
    """A price at the precision the API shows it (rendering.price), so that levels the client tells
    apart are levels the book tells apart, and the best ones equal the ticker's bid and ask."""
    return round(rendering.price(units) * PRICE)


def generated_book(view: View, exchange: str, symbol: str) -> Book | None:
    listed = view.catalog.exchanges[exchange]
    if symbol not in listed.symbols:
        return None
    model = view.model
    t = view.now
    if listed.inactive:  # its book stands still where its numbers stopped (as View.stats does)
        t = min(t, listed.inactive_from(model.started))
    # the quote View.stats shows, without the 24 h statistics the book does not need
    quote = model.symbol_quotes(symbol, t, frozenset((exchange,)))[exchange]
    nominal = next(p.volume for p in model.pairs[symbol] if p.exchange == exchange)
    key = key_of(model.seed, "book", exchange, symbol)
    scale = max(LOT, int(nominal) // LEVEL_VOLUME)  # the nominal volume: amounts change only with their cells
    bid, ask = shown(quote.bid), shown(quote.ask)
    precision = PRICE // 100 if bid >= PRICE else PRICE // 10**6  # rendering.price's 2 or 6 decimals
    ratio = bid * STEP_PPM // (precision * 1_000_000)
    step = precision * 10 ** (len(str(ratio)) - 1) if ratio >= 1 else precision
    bids = _side(bid, [(bid - 1) // step * step - k * step for k in range(DEPTH * 2)], key, 0, scale, t)
    asks = _side(ask, [ask // step * step + step + k * step for k in range(DEPTH * 2)], key, 1, scale, t)
    return Book(asks, bids)


def _side(top: int, grid: list[int], key: int, side: int, scale: int, t: int) -> dict[int, int]:
    levels = {top: _amount(key, side, top, scale, t)}
    for candidate in grid:
        price = shown(candidate)
        if price <= 0 or len(levels) == DEPTH:
            break
        if price not in levels and (price < top if side == 0 else price > top):
            levels[price] = _amount(key, side, price, scale, t)
    return levels


def _amount(key: int, side: int, price: int, scale: int, t: int) -> int:
    salt = (key + price * GOLDEN + side) & MASK
    period = 15 + int(uniform(salt, -1) * 105)
    cell = (t + int(uniform(salt, -2) * period)) // period
    u = uniform(salt, cell)
    return max(LOT, int(scale * (0.05 + 2.0 * u * u)) // LOT * LOT)


# -- trades ---------------------------------------------------------------------------------------


def engine_deals(world: World, after_tid: int) -> list[Deal]:
    """The engine's trades after a tid, as `getTrades?since=` lists them."""
    return [
        Deal(t.tid, t.date // MICROS, t.price * MTGOX_UNITS, t.amount, "buy" if t.taker_side == BID else "sell")
        for t in world.trades.since(after_tid, TRADE_PAGE)
        if t.currency == ENGINE_CURRENCY
    ]


def engine_cursor(world: World) -> int:
    last = world.trades.last()
    return last.tid if last is not None else 0


def generated_deals(
    model: PriceModel, catalog: Catalog, exchange: str, symbol: str, after: int, until: int
) -> list[Deal]:
    """An exchange's trades in the seconds after `after` up to `until` (at most a day of them)."""
    listed = catalog.exchanges[exchange]
    stop = listed.inactive_from(model.started) if listed.inactive else None
    key = key_of(model.seed, "trades", exchange, symbol)
    names = frozenset((exchange,))
    out: list[Deal] = []
    first = max(after + 1, until - DAY + 1)
    previous = model.symbol_quotes(symbol, first - 1, names)[exchange].last
    for second in range(first, until + 1):
        if stop is not None and second > stop:
            break
        quote = model.symbol_quotes(symbol, second, names)[exchange]
        draw = uniform(key, second)
        count = sum(draw >= odds for odds in TRADE_ODDS)
        mean = quote.volume / (DAY * TRADES_PER_SECOND)
        for i in range(count):
            salt = (key + (i + 1) * GOLDEN) & MASK
            amount = max(LOT, int(mean * (0.25 + 1.5 * uniform(salt, second))) // LOT * LOT)
            if i == count - 1:
                side, price = ("buy" if quote.last >= previous else "sell"), quote.last
            else:
                buy = uniform(salt ^ 1, second) < 0.5
                side, price = ("buy", quote.ask) if buy else ("sell", quote.bid)
            out.append(Deal(second, second, price, amount, side))
        previous = quote.last
    return out
