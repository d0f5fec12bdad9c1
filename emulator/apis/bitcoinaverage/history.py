"""Index history (spec §4): minute, hour and day points, newest first.

Choices where the spec is silent:
- Minute and hour points of a local index are the index itself at that second (the same function
  as the live ticker, MtGox included while the trade log holds it), so the newest point meets the
  ticker. Points sit on the UTC grid: the newest at `now` floored to the minute (hour), then one a
  step back, 1440 for `daily`, 720 for `monthly`.
- Day points (alltime, and day resolution) and every point of a global index come from the
  reference index: the crypto's common price times the fiat rate times the index's nominal premium
  (exchanges' nominal volumes and premiums, static outliers out). A day point averages the
  reference at 00:00, 08:00 and 16:00 of the day (and now, for today; the fiat rate of 12:00);
  open is the 00:00 value, high and low the extremes of those, volume the nominal daily volume with a seeded daily
  wobble.
- The symbol's first day is the crypto's `first_day` (cryptos.json), or 365 days before the
  world's start when the world starts earlier than that.
- `since` gives the points strictly after it up to now; at most MAX_POINTS points (else 400).
  `at` gives the grid point nearest to it, the newest one for a time in the future, 404 before
  the first day. A transaction's day may be in the world's future: its average is then what the
  seeded process gives for that day.
"""

from dataclasses import dataclass

from emulator.apis.bitcoinaverage.noise import key_of, noise
from emulator.apis.bitcoinaverage.prices import DAY, HOUR, MINUTE, PRICE
from emulator.apis.bitcoinaverage.view import View

STEPS = {"minute": MINUTE, "hour": HOUR, "day": DAY}
PERIODS = {"daily": ("minute", 1440), "monthly": ("hour", 720)}
MAX_POINTS = 10_000
DAY_SAMPLES = (0, 8 * HOUR, 16 * HOUR)


@dataclass(slots=True, frozen=True)
class Point:
    time: int
    average: int
    high: int | None = None
    low: int | None = None
    open: int | None = None
    volume: int | None = None


def first_day(view: View, symbol: str) -> int:
    crypto = view.catalog.cryptos[symbol[:-3]]
    started = view.model.started
    if crypto.first_day < started:
        return crypto.first_day
    return started // DAY * DAY - 365 * DAY


def reference(view: View, market: str, symbol: str, t: int, fx_at: int | None = None) -> int:
    model = view.model
    crypto, fiat = symbol[:-3], symbol[-3:]
    factor = model.reference_factor(symbol) if market == "local" else model.global_factor(crypto)
    return round(model.usd(crypto, t) * model.fx(fiat, t if fx_at is None else fx_at) * factor * PRICE)


def auto_resolution(age: int) -> str:
    if age <= DAY:
        return "minute"
    if age <= 30 * DAY:
        return "hour"
    return "day"


def intraday(view: View, market: str, symbol: str, t: int) -> Point:
    if market == "local":
        return Point(t, view.local_last_at(symbol, t, fast=True))
    return Point(t, reference(view, market, symbol, t))


def day_point(view: View, market: str, symbol: str, day: int) -> Point:
    now = view.now
    complete = day + DAY <= now
    key = (market, symbol, day)
    if complete:
        cached = view.model.day_cache.get(key)
        if isinstance(cached, Point):
            return cached
    times = [day + s for s in DAY_SAMPLES if day > now or day + s <= now]
    if day <= now < day + DAY and now not in times:
        times.append(now)
    values = [reference(view, market, symbol, t, day + 12 * HOUR) for t in times]
    model = view.model
    if market == "local":
        nominal = model.nominal_volume(symbol)
    else:
        nominal = sum(model.nominal_volume(s) for s in view.local_symbols_of(symbol[:-3]))
    wobble = 1.0 + 0.3 * noise(key_of(model.seed, "day-volume", symbol), DAY, day + 12 * HOUR)
    found = Point(day, sum(values) // len(values), max(values), min(values), values[0], round(nominal * wobble))
    if complete:
        if len(model.day_cache) >= 100_000:
            model.day_cache.clear()
        model.day_cache[key] = found
    return found


def point(view: View, market: str, symbol: str, resolution: str, t: int) -> Point:
    return day_point(view, market, symbol, t) if resolution == "day" else intraday(view, market, symbol, t)


def grid(view: View, symbol: str, resolution: str, after: int, limit: int | None = None) -> list[int]:
    """Grid instants t with after < t <= now (and t >= the first day), newest first."""
    step = STEPS[resolution]
    newest = view.now // step * step
    oldest = max(after + 1, first_day(view, symbol))
    if newest < oldest:
        return []
    count = (newest - oldest) // step + 1
    if limit is not None:
        count = min(count, limit)
    if count > MAX_POINTS:
        raise ValueError(f"too many points ({count}); use a coarser resolution or a later since (max {MAX_POINTS})")
    return [newest - i * step for i in range(count)]


def period_points(view: View, market: str, symbol: str, period: str) -> list[Point]:
    if period == "alltime":
        return [day_point(view, market, symbol, d) for d in grid(view, symbol, "day", -(2**62))]
    resolution, count = PERIODS[period]
    return [intraday(view, market, symbol, t) for t in grid(view, symbol, resolution, -(2**62), count)]


def since_points(view: View, market: str, symbol: str, since: int, resolution: str | None) -> list[Point]:
    resolution = resolution or auto_resolution(view.now - since)
    return [point(view, market, symbol, resolution, t) for t in grid(view, symbol, resolution, since)]


def point_at(view: View, market: str, symbol: str, at: int, resolution: str | None) -> Point | None:
    resolution = resolution or auto_resolution(view.now - at)
    step = STEPS[resolution]
    newest = view.now // step * step
    t = min(newest, (at + step // 2) // step * step)
    if t < first_day(view, symbol):
        return None
    return point(view, market, symbol, resolution, t)


def daily_average(view: View, market: str, symbol: str, when: int) -> Point:
    """The day point of the UTC day holding `when` (for blockchain/tx_price)."""
    return day_point(view, market, symbol, when // DAY * DAY)
