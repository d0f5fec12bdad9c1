"""Headless replay: run a scenario at full speed and write every message it produced as JSON lines.

Each line is {"t": market unix seconds, "api": ..., "channel": ..., "data": ...}: MtGox trade, depth
and ticker messages exactly as /mtgox sends them, and BitcoinAverage local and global BTCUSD ticker
frames as `websocket/ticker` sends them, every `ba_interval` seconds of market time. The same scenario,
seed and duration always give the same file, so it can be checked in as a golden file.
"""

from collections.abc import Iterator
from typing import Any, TextIO

import orjson

from emulator.apis.bitcoinaverage import rendering as ba_rendering
from emulator.apis.bitcoinaverage.models import get_model
from emulator.apis.mtgox import rendering as mtgox_rendering
from emulator.apis.mtgox.websocket import DEPTH, TICKER, TRADES, depth_message, envelope, trade_message
from emulator.engine import DepthChange, Trade
from emulator.market.clock import MICROS
from emulator.market.defaults import DEFAULT_START
from emulator.market.scenario import Scenario
from emulator.market.tape import TapeSource
from emulator.market.world import World, parse_instant


def lines(
    story: Scenario,
    seed: int | None,
    seconds: float,
    ba_interval: float = 3.0,
    tape: TapeSource | None = None,
    start_at: str | None = None,
) -> Iterator[dict[str, Any]]:
    """The messages of `seconds` of market time. With a tape (given, or the scenario's) the clock
    starts at the tape's first trade unless `start_at` or the scenario's start says otherwise."""
    given = start_at or story.start
    start = parse_instant(given) if given else None
    if start is None and tape is None and story.tape is None:
        start = parse_instant(DEFAULT_START)
    with World(seed=seed, start=start, mode="manual", scenario=story, tape=tape) as world:  # its tape file closed
        yield from _messages(world, seconds, ba_interval)  # at the end, or when the reader stops early


def _messages(world: World, seconds: float, ba_interval: float) -> Iterator[dict[str, Any]]:
    feed = world.bus.subscribe(["trade", "depth", "changed"], maxsize=10**7)
    average = get_model(world)
    best: tuple[int | None, int | None] = (None, None)
    next_frame = world.now
    end = world.now + int(seconds * MICROS)
    while world.now < end:
        world.clock.advance(min(MICROS, end - world.now))
        world.sync()
        traded = False
        for event in feed.drain():
            t = world.now // MICROS
            if isinstance(event, Trade):
                traded = True
                yield {
                    "t": event.date // MICROS,
                    "api": "mtgox",
                    "channel": "trade",
                    "data": envelope(TRADES, "trade", trade_message(event)),
                }
            elif isinstance(event, DepthChange):
                yield {
                    "t": event.date // MICROS,
                    "api": "mtgox",
                    "channel": "depth",
                    "data": envelope(DEPTH, "depth", depth_message(event)),
                }
        book = world.engine.books["USD"]
        now_best = (book.best_bid(), book.best_ask())
        if traded or now_best != best:
            best = now_best
            ticker = mtgox_rendering.ticker(world.trades.stats(world.now), *now_best)
            body = {k: ticker[k] for k in ("buy", "high", "low", "sell", "vol", "last")}
            yield {
                "t": world.now // MICROS,
                "api": "mtgox",
                "channel": "ticker",
                "data": envelope(TICKER, "ticker", body),
            }
        if world.now >= next_frame:
            next_frame += int(ba_interval * MICROS)
            view = average.view(world)
            for market in ("local", "global"):
                ticker_now = view.ticker(market, "BTCUSD")
                if ticker_now is not None:
                    data = {**ba_rendering.ticker(ticker_now), "success": True, "time": t}
                    yield {
                        "t": world.now // MICROS,
                        "api": "bitcoinaverage",
                        "channel": f"websocket/ticker:{market}",
                        "data": data,
                    }


def write(
    story: Scenario,
    seed: int | None,
    seconds: float,
    out: TextIO,
    tape: TapeSource | None = None,
    start_at: str | None = None,
) -> int:
    count = 0
    for line in lines(story, seed, seconds, tape=tape, start_at=start_at):
        out.write(orjson.dumps(line).decode())
        out.write("\n")
        count += 1
    return count
