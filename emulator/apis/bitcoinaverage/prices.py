"""The seeded price process behind the BitcoinAverage view: pure functions of (seed, name, time).

Design (spec §6, with the choices the spec leaves open):
- Each crypto has a USD price `V_c(t) = level_c * exp(vol_c * (S_c(t) - S_c(t0) + w(t) * L_c(t)) - g_c * age(t))`
  where t0 is the world's start, `S_c` is short-term value noise (5 min to 1 day layers, a few
  percent), `L_c` long-term noise (a week to a year, tens of percent) faded in before the start
  (`w` goes from 0 at t0 to 1 sixty days earlier), and `g_c * age` a growth trend: the further back,
  the cheaper (up to four years back, flat before). After the start the process only wanders a
  few percent around its level, as the MtGox engine's order flow does around its opening price.
- Levels: BTC sits at the world's opening price (`world.opening_price`, the MtGox flow's), so the
  engine's book and the other exchanges' BTCUSD agree; other cryptos are a fixed ratio of it
  (`btc_ratio` in cryptos.json).
- Fiat rates (units per USD) drift slowly: the fixture rate times exp of +-0.5 % of daily and weekly
  noise. USD is exactly 1.
- Exchange e's mid price of symbol cf: `V_c(t) * fx_f(t) * (1 + offset_e,cf + 0.2 % * vol_c * n_e(t))`
  with a 10-minute noise `n_e`; bid and ask are half the exchange's spread either side; last is the
  mid. 24 h volume: `unit_volume_c * size_e * volume_weight_f * (1 + 0.35 * n(t))` (3-hour noise).
  Inactive exchanges are frozen at `inactive_days` before the world's start.
- Everything is integers once it leaves the noise: prices in 1e-8 of the fiat (`PRICE`), amounts in
  1e-8 of the crypto (`AMOUNT`), rates in 1e-8 units per USD (`RATE`).
"""

import math
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from emulator.apis.bitcoinaverage.catalog import Catalog
from emulator.apis.bitcoinaverage.noise import Bank, key_of, noise, octaves

PRICE = 10**8
AMOUNT = 10**8
RATE = 10**8
MINUTE = 60
HOUR = 3600
PASSING = 4096  # pure indices at seconds asked for only briefly (a ticker's opens): ~40 s of them
MARKET_INSTANTS = 128  # each holds every exchange's quotes: ~60 KB
ROWS = 256  # instants kept as arrays: each ~8 KB
DAY = 86_400
YEAR = 365 * DAY

SHORT = ((300, 0.0015), (HOUR, 0.004), (6 * HOUR, 0.008), (DAY, 0.012))
LONG = ((7 * DAY, 0.05), (30 * DAY, 0.12), (120 * DAY, 0.25), (YEAR, 0.35))
FADE_IN = 60 * DAY
GROWTH_YEARS = 4  # the growth trend flattens out this far back
FX = ((DAY, 0.002), (7 * DAY, 0.003))
EXCHANGE_NOISE = 0.002
VOLUME_NOISE = 0.35


@dataclass(slots=True, frozen=True)
class Quote:
    """One exchange's (or an index's) numbers for one symbol at one instant."""

    last: int
    bid: int
    ask: int
    volume: int


Columns = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]
"""last, bid, ask and volume of every pair (columns, in the model's pair order) at some instants (rows)."""


@dataclass(slots=True, frozen=True)
class Pair:
    exchange: str
    symbol: str
    crypto: str
    fiat: str
    offset: float
    half_spread: float
    volume: float  # nominal 24 h volume in AMOUNT units
    mid_key: int
    volume_key: int
    frozen_at: int | None  # seconds; inactive exchanges stop there


class Instant(Mapping[str, dict[str, Quote]]):
    """Every exchange's quotes at one second: symbol -> exchange -> quote. The numbers of all pairs
    are worked out at once, over arrays; a symbol's Quote objects are made when it is first read."""

    __slots__ = ("_columns", "_frozen", "_model", "_symbols")

    def __init__(
        self, model: "PriceModel", columns: tuple[list[int], list[int], list[int], list[int]], frozen: dict[int, Quote]
    ) -> None:
        self._model = model
        self._columns = columns  # last, bid, ask, volume of every pair, in the model's pair order
        self._frozen = frozen  # pair index -> quote, for inactive exchanges already stopped
        self._symbols: dict[str, dict[str, Quote]] = {}

    def __getitem__(self, symbol: str) -> dict[str, Quote]:
        found = self._symbols.get(symbol)
        if found is None:
            rows = self._model.rows.get(symbol)
            if rows is None:
                raise KeyError(symbol)
            lasts, bids, asks, volumes = self._columns
            frozen = self._frozen
            found = self._symbols[symbol] = {
                name: frozen[i] if i in frozen else Quote(lasts[i], bids[i], asks[i], volumes[i]) for name, i in rows
            }
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._model.pairs)

    def __len__(self) -> int:
        return len(self._model.pairs)


class PriceModel:
    """The pure part of the market: no world state besides seed, start and the BTC level."""

    def __init__(self, catalog: Catalog, seed: int, started: int, btc_level: float) -> None:
        self.catalog = catalog
        self.seed = seed
        self.started = started  # unix seconds
        self.levels = {c.code: btc_level * c.btc_ratio for c in catalog.cryptos.values()}
        self.keys = {c: (key_of(seed, "short", c), key_of(seed, "long", c)) for c in catalog.cryptos}
        self.fx_keys = {f: key_of(seed, "fx", f) for f in catalog.fiats}
        self.origin = {c: octaves(self.keys[c][0], SHORT, started) for c in catalog.cryptos}
        self.pairs: dict[str, list[Pair]] = {}
        for exchange in catalog.exchanges.values():
            frozen = exchange.inactive_from(started) if exchange.inactive else None
            for symbol in exchange.symbols:
                split = catalog.split(symbol)
                assert split is not None
                crypto, fiat = split
                volume = (
                    catalog.cryptos[crypto].unit_volume * exchange.size * catalog.fiats[fiat].volume_weight * AMOUNT
                )
                self.pairs.setdefault(symbol, []).append(
                    Pair(
                        exchange.name,
                        symbol,
                        crypto,
                        fiat,
                        exchange.offset_of(symbol),
                        exchange.spread / 2,
                        volume,
                        key_of(seed, "mid", exchange.name, symbol),
                        key_of(seed, "volume", exchange.name, symbol),
                        frozen,
                    )
                )
        # the same pairs as columns, for working out one instant of all of them at once
        flat = [pair for pairs in self.pairs.values() for pair in pairs]
        self.rows: dict[str, list[tuple[str, int]]] = {}
        for i, pair in enumerate(flat):
            self.rows.setdefault(pair.symbol, []).append((pair.exchange, i))
        self.flat = flat
        self._plan = Plan(self, range(len(flat)))
        self._plans: dict[str, Plan] = {}  # crypto -> the plan of its pairs (see plan_of)
        # an inactive exchange's quotes stay where it stopped: made once (pair index -> quote)
        self.frozen_quotes: dict[int, Quote] = {}  # pair index -> its quote where it stopped
        self._frozen = [(i, p) for i, p in enumerate(flat) if p.frozen_at is not None]
        self._cache: OrderedDict[int, Instant] = OrderedDict()
        self._rows: OrderedDict[int, NDArray[np.int64]] = OrderedDict()  # second -> (4, pairs): see instants
        self._fx_rows: dict[int, list[float]] = {}  # second -> fx of every fiat, for the seconds in _rows
        self.fiat_index = {f: i for i, f in enumerate(catalog.fiats)}
        self.gox_cache: dict[tuple[str, int, int], object] = {}  # see View._joined
        self.gox_means: dict[tuple[int, str, int, int], list[object]] = {}  # see View._mean_joined
        self._hours: dict[tuple[int, int], Columns] = {}  # (first, last hour) -> hourly lasts' max, min, sum, count
        self.index_cache: dict[tuple[str, int], int] = {}  # (symbol, second) -> a pure local index's last
        self.passing_cache: dict[tuple[str, int], int] = {}  # the same, for seconds asked for only briefly
        # (exchange, symbol, first hour, last hour) -> (max, min, sum, count) of the hourly lasts between
        self.hours_cache: dict[tuple[str, str, int, int], tuple[int, int, int, int]] = {}
        self._members: dict[str, dict[str, frozenset[str]]] = {}  # live exchange -> members()
        self.means: dict[tuple[str, int, int], int] = {}  # (symbol, first instant, count) -> mean index last
        # (crypto, first instant of the week, of the month) -> symbol -> its two means: see View.pure_means
        self.grid_means: dict[tuple[str, int, int], dict[str, tuple[int, int]]] = {}
        self.day_cache: dict[tuple[str, str, int], object] = {}  # (market, symbol, day) -> a completed day
        self.layouts: dict[str, object] = {}  # crypto -> board.Layout of the index members
        self.blocks: dict[str, list[object]] = {}  # crypto -> the board.Blocks made last
        self.asked: dict[str, int] = {}  # crypto -> the second whose board was asked for last (see board_at)

    def remember_index(self, symbol: str, t: int, last: int, passing: bool = False) -> None:
        """Cache a pure local index; a `passing` one (asked for during one second only) in a small
        cache of its own, so that it does not crowd out the points asked for again and again."""
        cache, size = (self.passing_cache, PASSING) if passing else (self.index_cache, 200_000)
        if len(cache) >= size:
            cache.clear()
        cache[(symbol, t)] = last

    def cached_index(self, symbol: str, t: int) -> int | None:
        key = (symbol, t)
        found = self.index_cache.get(key)
        return self.passing_cache.get(key) if found is None else found

    def members(self, live: str) -> dict[str, frozenset[str]]:
        """The exchanges that trade each local symbol and count in its index, but for `live` (one
        whose numbers come from elsewhere: the view's MtGox); made once per `live`."""
        found = self._members.get(live)
        if found is None:
            catalog = self.catalog
            found = {s: frozenset(e.name for e in catalog.traders(s)) - {live} for s in catalog.local_symbols}
            self._members[live] = found
        return found

    def hourly_lasts(self, exchange: str, symbol: str, first: int, last: int) -> tuple[int, int, int, int]:
        """(max, min, sum, count) of an exchange's last price at each whole hour from `first` to
        `last`: the inside of a 24 h window, the same for every second of an hour, so made once."""
        key = (exchange, symbol, first, last)
        found = self.hours_cache.get(key)
        if found is None:
            lasts = [self.market(t)[symbol][exchange].last for t in range(first, last + 1, HOUR)]
            found = (max(lasts), min(lasts), sum(lasts), len(lasts)) if lasts else (0, 0, 0, 0)
            if len(self.hours_cache) >= 20_000:
                self.hours_cache.clear()
            self.hours_cache[key] = found
        return found

    # -- common processes -------------------------------------------------------------------

    def usd(self, crypto: str, t: int) -> float:
        """The crypto's common USD price at t (float: it is a process, not money yet)."""
        c = self.catalog.cryptos[crypto]
        short_key, long_key = self.keys[crypto]
        log = octaves(short_key, SHORT, t) - self.origin[crypto]
        age = self.started - t
        if age > 0:
            log += min(1.0, age / FADE_IN) * octaves(long_key, LONG, t)
        log *= c.volatility
        if age > 0:
            log -= c.growth_per_year * min(age, GROWTH_YEARS * YEAR) / YEAR
        return self.levels[crypto] * math.exp(log)

    def fx(self, fiat: str, t: int) -> float:
        """Units of the fiat per US dollar at t."""
        if fiat == "USD":
            return 1.0
        return self.catalog.fiats[fiat].rate * math.exp(octaves(self.fx_keys[fiat], FX, t))

    def rate(self, fiat: str, t: int) -> int:
        """The fiat's rate in RATE units, as the view publishes it (from the instant's row when it
        was worked out: the same number)."""
        row = self._fx_rows.get(t)
        if row is not None:
            return round(row[self.fiat_index[fiat]] * RATE)
        return round(self.fx(fiat, t) * RATE)

    # -- exchanges ---------------------------------------------------------------------------

    def quote(self, pair: Pair, t: int, base: float) -> Quote:
        """`base` is usd(crypto, t) * fx(fiat, t) for the pair's symbol at t (shared by all pairs)."""
        mid = base * (1.0 + pair.offset + EXCHANGE_NOISE * noise(pair.mid_key, 600, t))
        volume = pair.volume * (1.0 + VOLUME_NOISE * noise(pair.volume_key, 3 * HOUR, t))
        return Quote(
            round(mid * PRICE),
            round(mid * (1.0 - pair.half_spread) * PRICE),
            round(mid * (1.0 + pair.half_spread) * PRICE),
            round(volume),
        )

    def symbol_quotes(self, symbol: str, t: int, names: frozenset[str] | None = None) -> dict[str, Quote]:
        """Every (or the named) exchange's quote of one symbol at t."""
        pairs = self.pairs.get(symbol, ())
        out: dict[str, Quote] = {}
        base: float | None = None
        for pair in pairs:
            if names is not None and pair.exchange not in names:
                continue
            if pair.frozen_at is not None and pair.frozen_at < t:
                at = pair.frozen_at
                out[pair.exchange] = self.quote(pair, at, self.usd(pair.crypto, at) * self.fx(pair.fiat, at))
                continue
            if base is None:
                base = self.usd(pair.crypto, t) * self.fx(pair.fiat, t)
            out[pair.exchange] = self.quote(pair, t, base)
        return out

    def market(self, t: int) -> Mapping[str, dict[str, Quote]]:
        """All quotes of all exchanges at t: symbol -> exchange -> quote (cached: the MARKET_INSTANTS
        used last; a view uses ~15 a second, the hourly samples 24 once an hour). The same numbers
        as `quote` gives pair by pair, worked out for all pairs at once."""
        cached = self._cache.get(t)
        if cached is not None:
            self._cache.move_to_end(t)
            return cached
        row = self.row(t)
        columns = (row[0].tolist(), row[1].tolist(), row[2].tolist(), row[3].tolist())
        frozen: dict[int, Quote] = {}  # inactive exchanges stopped before t: their last numbers
        for i, pair in self._frozen:
            at = pair.frozen_at
            if at is not None and at < t:
                found = self.frozen_quotes.get(i)
                if found is None:
                    found = self.frozen_quotes[i] = self.quote(
                        pair, at, self.usd(pair.crypto, at) * self.fx(pair.fiat, at)
                    )
                frozen[i] = found
        instant = self._cache[t] = Instant(self, columns, frozen)
        if len(self._cache) > MARKET_INSTANTS:
            self._cache.popitem(last=False)
        return instant

    def row(self, t: int) -> Columns:
        """Every pair's last, bid, ask and volume at t as arrays, inactive exchanges not yet frozen
        (`market` freezes them)."""
        found = self.instants((t,))[0]
        return found[0], found[1], found[2], found[3]

    def instants(self, times: tuple[int, ...]) -> list[NDArray[np.int64]]:
        """Each of `times` as a (4, pairs) array of every pair's last, bid, ask and volume (`row`);
        those not kept are worked out together, in one go (numpy's cost is mostly per call, so the
        four instants a view reads cost little more than one)."""
        kept = self._rows
        missing = []
        for t in dict.fromkeys(times):
            if t in kept:
                kept.move_to_end(t)
            else:
                missing.append(t)
        if missing:
            columns, fx = self._compute(np.array(missing, dtype=np.int64))
            block = np.stack(columns, axis=1)
            rates = fx.tolist()
            for i, t in enumerate(missing):
                kept[t] = block[i]
                self._fx_rows[t] = rates[i]
            while len(kept) > ROWS:
                del self._fx_rows[kept.popitem(last=False)[0]]
        return [kept[t] for t in times]

    def columns(self, times: NDArray[np.int64]) -> Columns:
        """Every pair's numbers at each of `times` (rows), inactive exchanges not frozen: element for
        element what `market` gives (the same float steps in the same order, over a grid)."""
        return self._compute(times)[0]

    def grid(self, times: NDArray[np.int64]) -> tuple[Columns, NDArray[np.float64]]:
        """`columns`, and `fx` of every fiat (columns, catalog order) at each of `times` (rows)."""
        return self._plan.compute(times)

    def _compute(self, times: NDArray[np.int64]) -> tuple[Columns, NDArray[np.float64]]:
        return self._plan.compute(times)

    def plan_of(self, crypto: str) -> "Plan":
        """The plan of a crypto's pairs (made once): what its board works out."""
        found = self._plans.get(crypto)
        if found is None:
            found = self._plans[crypto] = Plan(self, [i for i, p in enumerate(self.flat) if p.crypto == crypto])
        return found

    def hours(self, first: int, last: int) -> Columns:
        """Max, min, sum and count of every pair's last at each whole hour from `first` to `last`
        (the inside of a 24 h window: the same for every second of an hour), over all pairs at once."""
        key = (first, last)
        found = self._hours.get(key)
        if found is None:
            times = np.arange(first, last + 1, HOUR, dtype=np.int64)
            lasts = self.columns(times)[0]  # (a day's 24 instants in one go)
            count = np.full(lasts.shape[1], len(times), dtype=np.int64)
            found = (lasts.max(axis=0), lasts.min(axis=0), lasts.sum(axis=0), count)
            if len(self._hours) >= 48:
                self._hours.clear()
            self._hours[key] = found
        return found

    # -- the reference index (daily history) -------------------------------------------------

    def reference_factor(self, symbol: str) -> float:
        """The nominal-volume-weighted premium of a symbol's included exchanges (static outliers out)."""
        pairs = [p for p in self.pairs.get(symbol, ()) if self.catalog.exchanges[p.exchange].included]
        if not pairs:
            return 1.0
        offsets = sorted(p.offset for p in pairs)
        median = offsets[len(offsets) // 2]
        kept = [p for p in pairs if len(pairs) < 3 or abs(p.offset - median) <= self.catalog.outlier_threshold]
        total = sum(p.volume for p in kept)
        return sum(p.volume * (1.0 + p.offset) for p in kept) / total

    def global_factor(self, crypto: str) -> float:
        """The reference premium of a crypto's global index: its local ones weighted by nominal volume."""
        symbols = [s for s in self.catalog.local_symbols if s[:-3] == crypto]
        total = sum(self.nominal_volume(s) for s in symbols)
        if not total:
            return 1.0
        return sum(self.nominal_volume(s) * self.reference_factor(s) for s in symbols) / total

    def nominal_volume(self, symbol: str) -> float:
        return sum(p.volume for p in self.pairs.get(symbol, ()) if self.catalog.exchanges[p.exchange].included)


class Plan:
    """Working out some pairs' numbers (columns, in the order given) and every fiat's rate at many
    instants in one go, from one noise bank of what those pairs need: the short and long layers of
    their cryptos, the fx layers of every fiat, then each pair's mid and volume noise (slices say
    which is which). Element for element what `PriceModel.quote` and `fx` give (the same float steps
    in the same order)."""

    def __init__(self, model: PriceModel, chosen: Iterable[int]) -> None:
        catalog = model.catalog
        chosen = list(chosen)
        flat = [model.flat[i] for i in chosen]
        # a model's pair index -> its column here (0 for a pair not chosen)
        self.where = np.zeros(len(model.flat), dtype=np.intp)
        self.where[chosen] = np.arange(len(chosen))
        cryptos = [c for c in catalog.cryptos if any(p.crypto == c for p in flat)]
        fiats = list(catalog.fiats)
        self.started = model.started
        self._crypto_of = np.array([cryptos.index(p.crypto) for p in flat], dtype=np.intp)
        self._fiat_of = np.array([fiats.index(p.fiat) for p in flat], dtype=np.intp)
        self._offsets = np.array([p.offset for p in flat])
        self._half_spreads = np.array([p.half_spread for p in flat])
        self._volumes = np.array([p.volume for p in flat])
        self._origins = np.array([model.origin[c] for c in cryptos])
        self._volatility = np.array([catalog.cryptos[c].volatility for c in cryptos])
        self._growth = np.array([catalog.cryptos[c].growth_per_year for c in cryptos])
        self._levels = [model.levels[c] for c in cryptos]
        self._rates = [catalog.fiats[f].rate for f in fiats]
        self._usd_column = fiats.index("USD") if "USD" in fiats else -1
        series: list[tuple[int, int]] = []
        self._layers: dict[str, list[tuple[slice, float]]] = {}
        for name, layers, keys in (
            ("short", SHORT, [model.keys[c][0] for c in cryptos]),
            ("long", LONG, [model.keys[c][1] for c in cryptos]),
            ("fx", FX, [model.fx_keys[f] for f in fiats]),
        ):
            self._layers[name] = []
            for i, (period, amplitude) in enumerate(layers):
                self._layers[name].append((slice(len(series), len(series) + len(keys)), amplitude))
                series += [(key + i, period) for key in keys]
        self._mid_series = slice(len(series), len(series) + len(flat))
        series += [(p.mid_key, 600) for p in flat]
        self._volume_series = slice(len(series), len(series) + len(flat))
        series += [(p.volume_key, 3 * HOUR) for p in flat]
        self._bank = Bank(series)

    def compute(self, times: NDArray[np.int64]) -> tuple[Columns, NDArray[np.float64]]:
        """Last, bid, ask and volume of the pairs (columns) and fx of every fiat at each of `times`."""
        return self._numbers(times, self._bank.values(times))

    def run(self, starts: list[int], count: int, step: int = 1) -> tuple[Columns, NDArray[np.float64]]:
        """`compute` at `count` seconds `step` apart from each of `starts`, one run after another;
        bid and ask of the first run only (what a board reads)."""
        times = (np.array(starts, dtype=np.int64)[:, np.newaxis] + step * np.arange(count, dtype=np.int64)).ravel()
        return self._numbers(times, self._bank.run(starts, count, step), count)

    def _numbers(
        self, times: NDArray[np.int64], noise: NDArray[np.float64], quoted: int | None = None
    ) -> tuple[Columns, NDArray[np.float64]]:
        """The columns at `times` from their noise; bid and ask of the first `quoted` rows only."""
        fx = self._fx_grid(noise)
        base = self._usd_grid(times, noise)[:, self._crypto_of] * fx[:, self._fiat_of]
        mid = base * (1.0 + self._offsets + EXCHANGE_NOISE * noise[:, self._mid_series])
        volume = self._volumes * (1.0 + VOLUME_NOISE * noise[:, self._volume_series])
        columns = (
            np.rint(mid * PRICE).astype(np.int64),
            np.rint(mid[:quoted] * (1.0 - self._half_spreads) * PRICE).astype(np.int64),
            np.rint(mid[:quoted] * (1.0 + self._half_spreads) * PRICE).astype(np.int64),
            np.rint(volume).astype(np.int64),
        )
        return columns, fx

    def _octaves(self, name: str, noise: NDArray[np.float64]) -> NDArray[np.float64]:
        """The layers of one kind summed as `octaves` sums them (from 0.0, layer by layer)."""
        layers = self._layers[name]
        total = np.zeros((noise.shape[0], layers[0][0].stop - layers[0][0].start))
        for columns, amplitude in layers:
            total += amplitude * noise[:, columns]
        return total

    def _usd_grid(self, times: NDArray[np.int64], noise: NDArray[np.float64]) -> NDArray[np.float64]:
        """usd(crypto, t) of every t (rows) and crypto (columns, catalog order)."""
        log = self._octaves("short", noise) - self._origins
        age = self.started - times
        past = (age > 0)[:, np.newaxis]
        if past.any():
            fade = np.minimum(1.0, age / FADE_IN)[:, np.newaxis]
            log = np.where(past, log + fade * self._octaves("long", noise), log)
        log *= self._volatility
        if past.any():
            trend = self._growth * np.minimum(age, GROWTH_YEARS * YEAR)[:, np.newaxis] / YEAR
            log = np.where(past, log - trend, log)
        exp = math.exp
        levels = self._levels * len(times)
        return np.array([level * exp(x) for level, x in zip(levels, log.ravel().tolist(), strict=True)]).reshape(
            log.shape
        )

    def _fx_grid(self, noise: NDArray[np.float64]) -> NDArray[np.float64]:
        """fx(fiat, t) of every instant of `noise` (rows) and fiat (columns, catalog order)."""
        logs = self._octaves("fx", noise)
        exp = math.exp
        rates = self._rates * len(noise)
        out = np.array([rate * exp(x) for rate, x in zip(rates, logs.ravel().tolist(), strict=True)]).reshape(
            logs.shape
        )
        if self._usd_column >= 0:
            out[:, self._usd_column] = 1.0
        return out
