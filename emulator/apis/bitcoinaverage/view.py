"""The BitcoinAverage view of one world at one second: exchanges, local and global indices.

Choices where the spec is silent:
- The exchange `mtgox` is the world's MtGox engine: its BTCUSD bid/ask come from the live book, last,
  24 h high/low/vwap/volume from the trade log, open from the first trade of the last 24 h. At a past
  instant T its value is the last trade at or before T, used only while that trade is inside the
  trade log's guaranteed window (the last two days), so answers never depend on when requests came.
- A local index is the volume-weighted mean (24 h volumes) of its included exchanges' numbers, after
  dropping outliers: with three or more exchanges, one whose last price is `outlier_threshold` (5 %)
  or more from the median of the others'. So that an exchange drifting towards outlier status does
  not make the index jump, its weight fades linearly from full at half the threshold to nothing at
  the threshold (`weighting/exchanges` shows these effective weights). `high`, `low` and `averages.day` are the
  same weighted mean of the exchanges' 24 h high, low and vwap (vwap = mean of hourly samples);
  `open.day/week/month` are the index 1, 7 and 30 days ago; `averages.week` the mean of the index
  every 6 h over the last week, `averages.month` every day over the last 30 days.
- A global index: for a crypto, each local index converted to USD at the current rates, weighted by
  its market share (its index volume over the crypto's total), gives the USD value; every fiat's
  value is that times the fiat's rate. Its volume is the crypto's total volume; `volume_percent` is
  the fiat's market share (0 for a fiat without a local market).
- Exchanges' numbers are for the second: the view is cached per (world identity, second): see market.memo.
"""

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, cast

import numpy as np

from emulator.apis.bitcoinaverage.board import Board, Layout, board_at, scaled_quotients, weighted_means
from emulator.apis.bitcoinaverage.catalog import Catalog
from emulator.apis.bitcoinaverage.prices import DAY, HOUR, RATE, PriceModel, Quote
from emulator.apis.bitcoinaverage.records import TICKER_FIELDS, TICKER_VALUES, Stats, Ticker
from emulator.apis.bitcoinaverage.weighting import (
    MTGOX,
    MTGOX_SYMBOL,
    MTGOX_UNITS,
    Joined,
    combine,
    combined_last,
    joined,
    split_outliers,
    wavg,
)
from emulator.market.clock import MICROS
from emulator.market.memo import Memo

if TYPE_CHECKING:
    from emulator.market.world import World


FAST_GLOBAL = 2**52  # local ticker fields below this go into the global index over arrays (see global_usd)


@dataclass(slots=True)
class At:
    """A past second of an index MtGox joins: MtGox's last trade then (date -1: none) and, once
    needed, the index Joined at its price (see View._mean_joined)."""

    t: int
    date: int
    price: int
    joined: Joined | None = None
    pure: int | None = None  # the index without MtGox


class View:
    """What the view shows at the world's current second."""

    def __init__(
        self, catalog: Catalog, model: PriceModel, world: "World", trades_at: Memo[tuple[int, int]] | None = None
    ) -> None:
        self.catalog = catalog
        # second -> (date, price) of MtGox's last trade at or before it, (-1, 0) for none: fixed
        # once the second is past, for as long as the world stays on its timeline (its epoch)
        self._trades_at: Memo[tuple[int, int]] = Memo(limit=4096) if trades_at is None else trades_at
        self.model = model
        self.world = world
        self.now = world.now // MICROS
        self.keep_from = world.now - world.trades.keep
        self._included = model.members(live=MTGOX)  # MtGox, when included, is the engine (mtgox_live)
        self._local: dict[str, Ticker] = {}
        self.memo: dict[tuple[str, ...], object] = {}  # per-second results of routes (history)
        self._index_now: dict[str, tuple[Quote, dict[str, int]]] = {}
        self._volumes: dict[str, int] = {}
        self._global_usd: dict[str, Ticker | None] = {}
        self._stats: dict[tuple[str, str], Stats | None] = {}
        self._mtgox_live: Stats | bool | None = False
        self._boards: dict[str, Board] = {}
        self._grid: tuple[list[int], list[int]] | None = None

    def board(self, crypto: str) -> Board:
        """The pure local indices of a crypto's symbols (all of them, at once: its global index needs
        every one) and their members' numbers at this second, made on first use."""
        found = self._boards.get(crypto)
        if found is None:
            model = self.model
            layout = model.layouts.get(crypto)
            if not isinstance(layout, Layout):
                layout = model.layouts[crypto] = Layout(model, self._included, self.local_symbols_of(crypto))
            found = self._boards[crypto] = board_at(model, crypto, layout, self.now, self.catalog.outlier_threshold)
        return found

    # -- MtGox ------------------------------------------------------------------------------

    def mtgox_live(self) -> Stats | None:
        if self._mtgox_live is not False:
            return self._mtgox_live  # type: ignore[return-value]
        world = self.world
        stats = world.trades.stats(world.now)
        result: Stats | None = None
        if stats.last is not None:
            last = stats.last * MTGOX_UNITS
            book = world.engine.books["USD"]
            bid, ask = book.best_bid(), book.best_ask()
            first = world.trades.first_between(world.now - DAY * MICROS, world.now)
            opening = first.price * MTGOX_UNITS if first is not None else last
            high = stats.high * MTGOX_UNITS if stats.high is not None else last
            low = stats.low * MTGOX_UNITS if stats.low is not None else last
            vwap = stats.vwap * MTGOX_UNITS if stats.vwap is not None else last
            result = Stats(
                last,
                bid * MTGOX_UNITS if bid else last,
                ask * MTGOX_UNITS if ask else last,
                stats.volume,
                max(high, last, opening),
                min(low, last, opening),
                opening,
                vwap,
                self.now,
            )
        self._mtgox_live = result
        return result

    def mtgox_at(self, t: int) -> Quote | None:
        """MtGox at a past second: its last trade then, if the log still surely holds it."""
        if t >= self.now:
            live = self.mtgox_live()
            return None if live is None else Quote(live.last, live.bid, live.ask, live.volume)
        date, price = self._trades_at.get(self.world.epoch, t, lambda: self._trade_at(t))
        if date < self.keep_from:
            return None
        live = self.mtgox_live()
        return Quote(price, price, price, live.volume if live else 0)

    def _trade_at(self, t: int) -> tuple[int, int]:
        trades = self.world.trades.trades
        i = bisect_right(trades, t * MICROS + MICROS - 1, key=lambda tr: tr.date) - 1
        return (-1, 0) if i < 0 else (trades[i].date, trades[i].price * MTGOX_UNITS)

    # -- exchanges --------------------------------------------------------------------------

    def stats(self, exchange: str, symbol: str) -> Stats | None:
        """An exchange's numbers now with their 24 h statistics (None if it does not trade it)."""
        key = (exchange, symbol)
        if key in self._stats:
            return self._stats[key]
        result: Stats | None
        if exchange == MTGOX and symbol == MTGOX_SYMBOL:
            result = self.mtgox_live()
        elif symbol not in self.catalog.exchanges[exchange].symbols:
            result = None
        else:
            listed = self.catalog.exchanges[exchange]
            now = self.now
            if listed.inactive:  # an inactive exchange's numbers stop where it stopped updating
                now = min(now, listed.inactive_from(self.model.started))
            # samples: 24 h ago, every whole hour since, and now
            model = self.model
            opening = model.market(now - DAY)[symbol][exchange].last
            current = model.market(now)[symbol][exchange]
            first, last = (now - DAY) // HOUR * HOUR + HOUR, (now - 1) // HOUR * HOUR
            high, low, total, count = max(opening, current.last), min(opening, current.last), opening + current.last, 2
            if first <= last:
                top, bottom, inside, hours = model.hourly_lasts(exchange, symbol, first, last)
                high, low, total, count = max(high, top), min(low, bottom), total + inside, count + hours
            result = Stats(
                current.last, current.bid, current.ask, current.volume, high, low, opening, total // count, now
            )
        self._stats[key] = result
        return result

    def exchange_stats(self, exchange: str, symbols: list[str] | None = None) -> dict[str, Stats]:
        """An exchange's numbers for each symbol it trades (only `symbols`, when given), in its order."""
        out = {}
        for s in self.catalog.exchanges[exchange].symbols:
            if symbols is None or s in symbols:
                found = self.stats(exchange, s)
                if found is not None:
                    out[s] = found
        return out

    def quotes_now(self, symbol: str) -> dict[str, Quote]:
        """The quotes the local index of a symbol starts from (included exchanges only)."""
        out: dict[str, Quote] = {}
        for name in self._included.get(symbol, ()):
            s = self.stats(name, symbol)
            if s is not None:
                out[name] = Quote(s.last, s.bid, s.ask, s.volume)
        if symbol == MTGOX_SYMBOL:
            live = self.mtgox_live()
            if live is not None:
                out[MTGOX] = Quote(live.last, live.bid, live.ask, live.volume)
        return dict(sorted(out.items()))

    def quotes_at(self, symbol: str, t: int, fast: bool = False) -> dict[str, Quote]:
        """Included exchanges' quotes of a symbol at second t < now, without MtGox (see local_last_at)."""
        included = self._included.get(symbol, frozenset())
        if fast:
            return self.model.symbol_quotes(symbol, t, included)
        # market(t)'s quotes of the members, from the instant's arrays (no member is inactive, so
        # none is frozen), without making every pair's quotes of that instant
        lasts, bids, asks, volumes = self.model.row(t)
        found = [(n, i) for n, i in self.model.rows.get(symbol, ()) if n in included]
        columns = [i for _, i in found]
        return {
            n: Quote(*numbers)
            for (n, _), numbers in zip(
                found,
                zip(
                    lasts[columns].tolist(),
                    bids[columns].tolist(),
                    asks[columns].tolist(),
                    volumes[columns].tolist(),
                    strict=True,
                ),
                strict=True,
            )
        }

    # -- indices ----------------------------------------------------------------------------

    def local_index_now(self, symbol: str) -> tuple[Quote, dict[str, int]]:
        found = self._index_now.get(symbol)
        if found is None:
            board = self.board(symbol[:-3])
            if symbol == MTGOX_SYMBOL:  # combine(self.quotes_now(symbol), ...), the members' quotes from the board
                quotes = {name: numbers[0] for name, numbers in board.members(symbol).items()}
                live = self.mtgox_live()
                if live is not None:
                    quotes[MTGOX] = Quote(live.last, live.bid, live.ask, live.volume)
                found = combine(dict(sorted(quotes.items())), self.catalog.outlier_threshold)
            else:  # the same, for every such symbol at once
                found = (board.quote(symbol), board.weights(symbol))
            self._index_now[symbol] = found
        return found

    def local_last_at(self, symbol: str, t: int, fast: bool = False, passing: bool = False) -> int:
        """The local index's last price at second t <= now.

        Without MtGox in it the index at a past second is pure, so it is cached by (symbol, second)
        in the price model (`passing`: a second asked for only briefly, see remember_index), and
        reused only where the world has no MtGox trade for that second: MtGox's part is the
        engine's trade log, and its weight today's volume."""
        if t >= self.now:
            return self.local_index_now(symbol)[0].last
        # a second whose last trade must be older than the log's window has no MtGox part
        gox = self.mtgox_at(t) if symbol == MTGOX_SYMBOL and t * MICROS + MICROS - 1 >= self.keep_from else None
        if gox is None:
            return self._pure_last_at(symbol, t, fast, passing)
        return self._joined(symbol, t, gox.last, lambda: self.quotes_at(symbol, t, fast)).last(gox.last, gox.volume)

    def _pure_last_at(self, symbol: str, t: int, fast: bool = False, passing: bool = False) -> int:
        """The local index at past second t without MtGox (see local_last_at)."""
        cached = self.model.cached_index(symbol, t)
        if cached is None:
            quotes = dict(sorted(self.quotes_at(symbol, t, fast).items()))
            cached = combined_last(quotes, self.catalog.outlier_threshold)
            self.model.remember_index(symbol, t, cached, passing)
        return cached

    def _joined(self, symbol: str, t: int, price: int, quotes: Callable[[], dict[str, Quote]]) -> Joined:
        """The index at past second t with MtGox's last at `price`, its volume aside: a pure function
        of the second and that price, kept in the price model by both."""
        key = (symbol, t, price)
        found = self.model.gox_cache.get(key)
        if found is None:
            found = joined(quotes(), price, self.catalog.outlier_threshold)
            if len(self.model.gox_cache) >= 4096:
                self.model.gox_cache.clear()
            self.model.gox_cache[key] = found
        assert isinstance(found, Joined)
        return found

    def _grids(self) -> tuple[list[int], list[int]]:
        """The instants of the week's and the month's means: every 6 h over a week, every day over 30 days."""
        if self._grid is None:
            now = self.now
            self._grid = (
                [now // (6 * HOUR) * 6 * HOUR - i * 6 * HOUR for i in range(28)],
                [now // DAY * DAY - i * DAY for i in range(30)],
            )
        return self._grid

    def _open(self, board: Board, symbol: str, back: int) -> int:
        """local_last_at(symbol, now - back, passing=True), the members' quotes from the board."""
        t = self.now - back
        gox = self.mtgox_at(t) if symbol == MTGOX_SYMBOL and t * MICROS + MICROS - 1 >= self.keep_from else None
        if gox is None:
            cached = self.model.cached_index(symbol, t)
            if cached is None:
                cached = board.last_at(symbol, back)
                self.model.remember_index(symbol, t, cached, passing=True)
            return cached
        return self._joined(symbol, t, gox.last, lambda: board.quotes_back(symbol, back)).last(gox.last, gox.volume)

    def mean_last(self, symbol: str, instants: list[int]) -> int:
        """The mean of the local index's last at `instants` (past seconds on a 6 h or daily grid). Pure
        but for BTCUSD (MtGox's trades count there), so cached in the price model by its first instant."""
        if instants[0] >= self.now:  # the index now in it
            return sum(self.local_last_at(symbol, t) for t in instants) // len(instants)
        if symbol == MTGOX_SYMBOL:
            return self._mean_joined(symbol, instants)
        key = (symbol, instants[0], len(instants))
        found = self.model.means.get(key)
        if found is None:
            found = sum(self.local_last_at(symbol, t) for t in instants) // len(instants)
            if len(self.model.means) >= 20_000:
                self.model.means.clear()
            self.model.means[key] = found
        return found

    def _mean_joined(self, symbol: str, instants: list[int]) -> int:
        """mean_last of the index MtGox joins at past instants: each instant's MtGox trade (fixed
        once past, on the world's timeline) and its index without MtGox are kept in the price model
        by the world's epoch; what is left for this second is which of those trades the log still
        surely holds (local_last_at's test) and MtGox's volume now (their weight)."""
        key = (self.world.epoch, symbol, instants[0], len(instants))
        found = self.model.gox_means.get(key)
        if found is None:
            epoch, trades_at = self.world.epoch, self._trades_at
            found = [At(t, *trades_at.get(epoch, t, partial(self._trade_at, t))) for t in instants]
            if len(self.model.gox_means) >= 64:
                self.model.gox_means.clear()
            self.model.gox_means[key] = found
        live = self.mtgox_live()
        volume = live.volume if live else 0
        keep = self.keep_from
        total = 0
        for at in cast(list[At], found):
            if at.t * MICROS + MICROS - 1 >= keep and at.date >= keep:
                if at.joined is None:
                    at.joined = self._joined(symbol, at.t, at.price, partial(self.quotes_at, symbol, at.t))
                total += at.joined.last(at.price, volume)
            else:
                if at.pure is None:
                    at.pure = self._pure_last_at(symbol, at.t)
                total += at.pure
        return total // len(instants)

    def local_ticker(self, symbol: str) -> Ticker:
        cached = self._local.get(symbol)
        if cached is not None:
            return cached
        now = self.now
        crypto = symbol[:-3]
        board = self.board(crypto)
        week, month = self._grids()
        if symbol != MTGOX_SYMBOL:  # every number but the means and the share from the board
            ask, bid, last, high, low, open_day, open_week, open_month, avg_day, volume = board.row(symbol)
            total = self.crypto_volume(crypto)
            avg_week, avg_month = self.pure_means(symbol)
            ticker = Ticker(
                ask,
                bid,
                last,
                high,
                low,
                open_day,
                open_week,
                open_month,
                avg_day,
                avg_week,
                avg_month,
                volume,
                volume * 1_000_000 // total if total else 0,
                now,
            )
            self._local[symbol] = ticker
            return ticker
        index, weights = self.local_index_now(symbol)
        # the opens are a day, a week and a month before this second: asked for during this second only
        if symbol == MTGOX_SYMBOL:  # the weighted means of the exchanges' 24 h numbers, MtGox's among them
            members = board.members(symbol)
            days = []
            for name, weight in weights.items():
                if name in members:
                    _, high, low, vwap = members[name]
                    days.append((high, low, vwap, weight))
                else:
                    live = self.stats(name, symbol)
                    if live is not None:
                        days.append((live.high, live.low, live.vwap, weight))
            day_high = wavg([(d[0], d[3]) for d in days])
            day_low = wavg([(d[1], d[3]) for d in days])
            vwap = wavg([(d[2], d[3]) for d in days])
            open_day, open_week, open_month = (self._open(board, symbol, back) for back in board.BACK)
        else:  # the same numbers, worked out for every symbol of the crypto at once
            day_high, day_low, vwap = board.day(symbol)
            open_day, open_week, open_month = (board.last_at(symbol, back) for back in board.BACK)
        high = max(day_high, index.last, open_day)
        low = min(day_low, index.last, open_day)
        total = self.crypto_volume(crypto)
        ticker = Ticker(
            index.ask,
            index.bid,
            index.last,
            high,
            low,
            open_day,
            open_week,
            open_month,
            vwap,
            self.mean_last(symbol, week),
            self.mean_last(symbol, month),
            index.volume,
            index.volume * 1_000_000 // total if total else 0,
            now,
        )
        self._local[symbol] = ticker
        return ticker

    def crypto_volume(self, crypto: str) -> int:
        found = self._volumes.get(crypto)
        if found is None:
            board = self.board(crypto)
            found = self._volumes[crypto] = sum(
                self.local_index_now(s)[0].volume if s == MTGOX_SYMBOL else board.row(s)[-1]
                for s in self.local_symbols_of(crypto)
            )
        return found

    def local_symbols_of(self, crypto: str) -> list[str]:
        return [s for s in self.catalog.local_symbols if s[:-3] == crypto]

    def shares(self, crypto: str) -> dict[str, int]:
        """Market share of each local symbol of a crypto, in millionths."""
        return {s: self.local_ticker(s).share_ppm for s in self.local_symbols_of(crypto)}

    def global_usd(self, crypto: str) -> Ticker | None:
        if crypto in self._global_usd:
            return self._global_usd[crypto]
        symbols = self.local_symbols_of(crypto)
        result: Ticker | None = None
        if symbols:
            rows = [self._ticker_fields(s) for s in symbols]
            rates = [self.rate(crypto, s[-3:]) for s in symbols]
            volumes = [volume for _, volume in rows]
            total = sum(volumes)
            fields = [fields for fields, _ in rows]
            values: list[int]
            if total > 0 and max(map(max, fields)) < FAST_GLOBAL:
                # each field in USD (field * RATE // rate), then wavg with the volumes: exact, over arrays
                usd = scaled_quotients(np.array(fields, dtype=np.int64), RATE, np.array(rates)[:, np.newaxis])
                weights = np.broadcast_to(np.array(volumes, dtype=np.int64), (len(TICKER_FIELDS), len(symbols)))
                values = weighted_means(usd.T, weights).tolist()
            else:  # the same in Python integers (prices beyond any the arrays are sure to hold)
                columns = zip(*fields, strict=True)
                values = [
                    wavg([(v * RATE // r, w) for v, r, w in zip(column, rates, volumes, strict=True)])
                    for column in columns
                ]
            named = dict(zip(TICKER_FIELDS, values, strict=True))
            result = Ticker(**named, volume=total, share_ppm=0, timestamp=self.now)
        self._global_usd[crypto] = result
        return result

    def _ticker_fields(self, symbol: str) -> tuple[tuple[int, ...], int]:
        """A local ticker's TICKER_FIELDS and volume (from its board row when no ticker is made)."""
        ticker = self._local.get(symbol)
        if ticker is None and symbol == MTGOX_SYMBOL:
            ticker = self.local_ticker(symbol)
        if ticker is not None:
            return TICKER_VALUES(ticker), ticker.volume
        ask, bid, last, high, low, open_day, open_week, open_month, avg_day, volume = self.board(symbol[:-3]).row(
            symbol
        )
        week, month = self.pure_means(symbol)
        return (ask, bid, last, high, low, open_day, open_week, open_month, avg_day, week, month), volume

    def pure_means(self, symbol: str) -> tuple[int, int]:
        """The week's and the month's mean_last of a symbol MtGox is not in, kept in the price model
        for all the crypto's symbols by the grids' first instants."""
        week, month = self._grids()
        if week[0] >= self.now or month[0] >= self.now:  # the index now in them
            return self.mean_last(symbol, week), self.mean_last(symbol, month)
        crypto = symbol[:-3]
        key = (crypto, week[0], month[0])
        found = self.model.grid_means.get(key)
        if found is None:
            found = {
                s: (self.mean_last(s, week), self.mean_last(s, month))
                for s in self.local_symbols_of(crypto)
                if s != MTGOX_SYMBOL
            }
            if len(self.model.grid_means) >= 64:
                self.model.grid_means.clear()
            self.model.grid_means[key] = found
        return found[symbol]

    def global_ticker(self, symbol: str) -> Ticker | None:
        crypto, fiat = symbol[:-3], symbol[-3:]
        usd = self.global_usd(crypto)
        if usd is None:
            return None
        rate = self.rate(crypto, fiat)
        values = {field: getattr(usd, field) * rate // RATE for field in TICKER_FIELDS}
        share = self.local_ticker(symbol).share_ppm if symbol in self.catalog.local_symbols else 0
        return Ticker(**values, volume=usd.volume, share_ppm=share, timestamp=self.now)

    def rate(self, crypto: str, fiat: str) -> int:
        """The fiat's rate now (RATE units): model.rate's number, from the board of a crypto with
        local symbols (whose block has worked it out)."""
        return self.board(crypto).rates[self.model.fiat_index[fiat]]

    def ticker(self, market: str, symbol: str) -> Ticker | None:
        if market == "local":
            return self.local_ticker(symbol) if symbol in self.catalog.local_symbols else None
        return self.global_ticker(symbol) if symbol in self.catalog.global_symbols else None

    def last(self, market: str, symbol: str) -> int | None:
        ticker = self.ticker(market, symbol)
        return None if ticker is None else ticker.last

    # -- custom indices and outliers --------------------------------------------------------

    def custom(self, symbol: str, include: set[str] | None, exclude: set[str] | None) -> Quote | None:
        """An index of a local symbol from only (include) or without (exclude) the named exchanges."""
        if include is not None:
            quotes = {}
            for name in sorted(include):
                s = self.stats(name, symbol)
                if s is not None:
                    quotes[name] = Quote(s.last, s.bid, s.ask, s.volume)
            if not quotes:
                return None
            return combine(quotes, float("inf"))[0]
        quotes = {n: q for n, q in self.quotes_now(symbol).items() if n not in (exclude or set())}
        if not quotes:
            return None
        return combine(quotes, self.catalog.outlier_threshold)[0]

    def outliers(self) -> dict[str, dict[str, dict[str, int]]]:
        out: dict[str, dict[str, dict[str, int]]] = {"last": {}, "bid": {}, "ask": {}}
        for symbol in self.catalog.local_symbols:
            quotes = self.quotes_now(symbol)
            for field in out:
                _, odd = split_outliers(quotes, self.catalog.outlier_threshold, field)
                if odd:
                    out[field][symbol] = {n: getattr(quotes[n], field) for n in odd}
        return out

    def weights(self) -> dict[str, dict[str, int]]:
        """Each index exchange's share of its symbol's volume, in millionths: exchange -> symbol -> share."""
        out: dict[str, dict[str, int]] = {}
        for symbol in self.catalog.local_symbols:
            _, weights = self.local_index_now(symbol)
            total = sum(weights.values())
            for name, weight in weights.items():
                out.setdefault(name, {})[symbol] = weight * 1_000_000 // total
        return dict(sorted(out.items()))
