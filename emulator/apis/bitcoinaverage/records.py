"""What the BitcoinAverage view hands to rendering: an exchange's numbers for one symbol at one
second (Stats) and an index's ticker (Ticker), integers in the price model's units."""

from dataclasses import dataclass
from operator import attrgetter


@dataclass(slots=True, frozen=True)
class Stats:
    """An exchange's numbers for one symbol at the view's second, with its 24 h statistics."""

    last: int
    bid: int
    ask: int
    volume: int
    high: int
    low: int
    open: int
    vwap: int
    timestamp: int


@dataclass(slots=True, frozen=True)
class Ticker:
    ask: int
    bid: int
    last: int
    high: int
    low: int
    open_day: int
    open_week: int
    open_month: int
    avg_day: int
    avg_week: int
    avg_month: int
    volume: int
    share_ppm: int  # volume_percent in millionths
    timestamp: int


TICKER_FIELDS = (
    "ask",
    "bid",
    "last",
    "high",
    "low",
    "open_day",
    "open_week",
    "open_month",
    "avg_day",
    "avg_week",
    "avg_month",
)


TICKER_VALUES = attrgetter(*TICKER_FIELDS)
