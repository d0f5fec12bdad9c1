"""Historical trade tapes: a real market's trades, played through the engine.

A tape is the bitcoincharts CSV: one trade a line, `unix_time,price,amount`, sorted by time, with an
optional fourth column giving the taker's side (`buy`/`bid`/`b` or `sell`/`ask`/`s`):

    1308477600,17.51,0.5
    1308477600,17.5,1.2,sell

Times are unix seconds (a fraction of up to 6 digits is kept); prices are USD (digits beyond 1e-5
are dropped), amounts BTC (beyond 1e-8 dropped). Blank lines, and a first line that is a header,
are passed over. Anything else that does not parse, and a line whose time is before the one above
it, is malformed: it stops the start with `FILE:LINE: what is wrong`, or, with skip_bad
(`--tape-skip-bad`), is skipped and counted.

Playing (TapePlayer):
- The world's clock starts at the tape's first trade unless a start is given; then the tape is
  entered there by a binary search on the file's bytes (the first trade at or after it).
- Every tape trade becomes one engine trade at its time, price and amount: a house account rests an
  order at the tape's price and the other house account takes it, on the tape's side (else the side
  inferred from the book: a price at or above the mid is a buy). The engine gives it its tid (its
  time in microseconds, one more on a collision), so getTrades, both websockets, the ticker and
  BitcoinAverage's `mtgox` read it as any other trade.
- Before each trade the book is made to bracket its price strictly: the agents' orders in the way
  are moved to the right side of it, and a client's resting order in the way is filled by the house
  at the client's own price (the market went through it), the only trades besides the tape's.
- While the tape plays the agents quote around its last price and cancel, but never trade; when it
  ends (or stops at a malformed line met while playing) they trade again from there.
- The day before the start comes from the tape; where the tape has no trades in that day, the
  seeded history fills the part before its first one.

Streaming: a tape is read a line at a time from an open file; nothing holds more of it than the day
before the start. At start the day before and the first CHECK_AHEAD bytes after the start are read
and checked; a malformed line further on is met while playing and stops the tape there (GET
/_emulator/tape shows it as `error`), unless skip_bad.

A posted tape (POST /_emulator/tape) is text of at most MAX_TEXT bytes, checked whole; a snapshot
keeps its text. A file tape is kept in a snapshot by its path, and a restore plays only the file
the world was started with or a shipped one (nothing reachable over HTTP opens other files).
"""

import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from emulator.engine import ASK, BID, Trade
from emulator.engine.units import BTC_SCALE, FIAT_SCALE
from emulator.market.clock import EARLIEST, LATEST, MICROS
from emulator.paths import data_dir

if TYPE_CHECKING:
    from emulator.market.flow import RandomFlow
    from emulator.market.scenario import Scenario
    from emulator.market.world import World

log = logging.getLogger("emulator.tape")

DAY = 86_400 * MICROS
MAX_LINE = 256  # bytes; a longer line is malformed
CHECK_AHEAD = 4 * 2**20  # bytes after the start read and checked before a world starts
MAX_TEXT = 4 * 2**20  # bytes of a posted tape
POSTED = "<posted>"
MAKER = "tape:maker"  # the house: names no account of the control API can take (no ':' allowed)
TAKER = "tape:taker"
HOUSE = (MAKER, TAKER)
HOUSE_FUNDS = {"BTC": 1_000_000 * BTC_SCALE, "USD": 1_000_000_000 * FIAT_SCALE}
MAX_PRICE = 10_000_000 * FIAT_SCALE
MAX_AMOUNT = 21_000_000 * BTC_SCALE
SIDES = {b"buy": BID, b"bid": BID, b"b": BID, b"sell": ASK, b"ask": ASK, b"s": ASK, b"": None}
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # a scenario's `tape:`: a file name, no path
NUMBER = re.compile(rb"^([0-9]{1,16})(?:\.([0-9]{0,30}))?$")


class TapeError(ValueError):
    """`FILE:LINE: what is wrong`."""


class TapeTrade(NamedTuple):
    time: int  # microseconds
    price: int  # USD units (1e-5)
    amount: int  # satoshis
    side: int | None  # the taker's side, when the tape gives it


def _number(text: bytes, places: int, what: str) -> int:
    match = NUMBER.match(text.strip())
    if match is None:
        shown = text.strip()[:40].decode("utf-8", "replace")
        raise ValueError(f"the {what} {shown!r} is not a plain decimal number")
    whole: bytes = match.group(1)
    fraction: bytes = match.group(2) or b""
    return int(whole) * int(10**places) + int((fraction + b"0" * places)[:places] or b"0")


def parse_line(raw: bytes) -> TapeTrade:
    """One line (without its newline) to a trade; ValueError saying what is wrong."""
    parts = raw.split(b",")
    if not 3 <= len(parts) <= 4:
        raise ValueError(f"expected unix_time,price,amount[,side]; found {len(parts)} fields")
    time = _number(parts[0], 6, "time")
    if not EARLIEST <= time <= LATEST:
        raise ValueError(f"the time {time // MICROS} is outside 2009-01-03 .. 2100-01-01")
    price = _number(parts[1], 5, "price")
    if not 0 < price <= MAX_PRICE:
        raise ValueError("the price must be from 0.00001 to 10000000 USD")
    amount = _number(parts[2], 8, "amount")
    if not 0 < amount <= MAX_AMOUNT:
        raise ValueError("the amount must be from 0.00000001 to 21000000 BTC")
    side = None
    if len(parts) == 4:
        key = parts[3].strip().lower()
        if key not in SIDES:
            raise ValueError(f"the side {parts[3].strip()[:16].decode('utf-8', 'replace')!r} is not buy or sell")
        side = SIDES[key]
    return TapeTrade(time, price, amount, side)


@dataclass(frozen=True)
class TapeSource:
    """Where a tape's bytes are: a file (`path`) or posted text (`text`)."""

    name: str  # what errors call it: the path as given, or <posted>
    path: str | None = None
    text: bytes | None = field(default=None, repr=False)
    skip_bad: bool = False

    @classmethod
    def file(cls, path: str, skip_bad: bool = False) -> "TapeSource":
        return cls(path, path=path, skip_bad=skip_bad)

    @classmethod
    def posted(cls, text: str, skip_bad: bool = False) -> "TapeSource":
        data = text.encode()
        if len(data) > MAX_TEXT:
            raise TapeError(f"{POSTED}: a posted tape is at most {MAX_TEXT} bytes; serve a file with --tape")
        return cls(POSTED, text=data, skip_bad=skip_bad)

    def open(self) -> IO[bytes]:
        if self.text is not None:
            return io.BytesIO(self.text)
        assert self.path is not None
        try:
            return open(self.path, "rb")
        except OSError as exc:
            raise TapeError(f"{self.name}:0: cannot read the tape: {exc.strerror or exc}") from exc


class TapeReader:
    """A tape read a line at a time. `offset` is where the next line starts; `line` its number (None
    after a binary search, until an error needs it and counts)."""

    def __init__(self, source: TapeSource) -> None:
        self.source = source
        self.file = source.open()
        self.size = self.file.seek(0, io.SEEK_END)
        self.file.seek(0)
        self.offset = 0
        self.line: int | None = 1
        self.last_time: int | None = None
        self.skipped = 0
        self.at = 0  # where the line last returned starts
        self.at_line: int | None = 1

    def close(self) -> None:
        """Let go of the file. A reader read again opens it again at `offset`: a world closed while a
        request or a socket still held it (a dropped tenant's) goes on, never reading a closed file."""
        self.file.close()

    def _open(self) -> IO[bytes]:
        if self.file.closed:
            self.file = self.source.open()
            self.file.seek(self.offset)
        return self.file

    def line_at(self, offset: int) -> int:
        """The number of the line starting at `offset`, counted (the error path only)."""
        with self.source.open() as counting:
            count, left = 1, offset
            while left > 0:
                chunk = counting.read(min(left, 2**20))
                if not chunk:
                    break
                count += chunk.count(b"\n")
                left -= len(chunk)
        return count

    def _fail(self, start: int, line: int | None, problem: str) -> None:
        if self.source.skip_bad:
            self.skipped += 1
            return
        raise TapeError(f"{self.source.name}:{line if line is not None else self.line_at(start)}: {problem}")

    def _raw(self) -> tuple[int, int | None, bytes | None] | None:
        """The next line: its start, number and bytes (None when it is too long); None at the end."""
        start, line = self.offset, self.line
        file = self._open()
        raw = file.readline(MAX_LINE + 1)
        if not raw:
            return None
        self.offset += len(raw)
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # the rest of the long line, a block at a time
                raw = file.readline(65536)
                self.offset += len(raw)
            body: bytes | None = None
        else:
            body = raw.strip()
        if self.line is not None:
            self.line += 1
        return start, line, body

    def next(self) -> TapeTrade | None:
        """The next trade (malformed lines skipped and counted with skip_bad, else TapeError)."""
        while True:
            found = self._raw()
            if found is None:
                return None
            start, line, body = found
            if body is None:
                self._fail(start, line, f"the line is longer than {MAX_LINE} bytes")
                continue
            if not body or (start == 0 and body[:1].isalpha()):
                continue  # a blank line, or a header
            try:
                trade = parse_line(body)
            except ValueError as exc:
                self._fail(start, line, str(exc))
                continue
            if self.last_time is not None and trade.time < self.last_time:
                self._fail(
                    start,
                    line,
                    f"out of order: {seconds_text(trade.time)} is before {seconds_text(self.last_time)} above it "
                    "(a tape is sorted by time)",
                )
                continue
            self.last_time = trade.time
            self.at, self.at_line = start, line
            return trade

    def _goto(self, offset: int) -> None:
        self._open().seek(offset)
        self.offset = offset
        self.line = 1 if offset == 0 else None
        self.last_time = None

    def seek(self, when: int) -> TapeTrade | None:
        """The first trade at or after `when`, found by a binary search on the bytes (the tape is
        sorted), then read on from there: a few dozen reads whatever the file's size."""
        low, high = 0, self.size
        while high - low > 4096:
            middle = (low + high) // 2
            self._goto(middle - 1)
            self._raw()  # the rest of the line `middle` falls in
            probe_at = self.offset
            if probe_at >= high:
                break
            probe = self.next()
            if probe is None or probe.time >= when:
                high = middle
            else:
                low = self.at
        self._goto(low)
        while True:
            trade = self.next()
            if trade is None or trade.time >= when:
                return trade

    def position(self) -> dict[str, Any]:
        return {"offset": self.at, "line": self.at_line}


def seconds_text(micros: int) -> str:
    return str(micros // MICROS) if micros % MICROS == 0 else f"{micros / MICROS:.6f}"


def first_trade(source: TapeSource) -> TapeTrade:
    """The tape's first trade (TapeError when it has none)."""
    reader = TapeReader(source)
    try:
        trade = reader.next()
    finally:
        reader.close()
    if trade is None:
        raise TapeError(f"{source.name}:1: the tape has no trades")
    return trade


def check(source: TapeSource, start: int | None) -> int:
    """Read what a world reads at start (the day before `start`, default the first trade) and the
    first CHECK_AHEAD bytes after it (a posted tape whole): TapeError for the first malformed line.
    Returns the start."""
    when = first_trade(source).time if start is None else start
    reader = TapeReader(source)
    try:
        trade = reader.seek(when - DAY)
        while trade is not None and trade.time < when:
            trade = reader.next()
        limit = reader.offset + (len(source.text) if source.text is not None else CHECK_AHEAD)
        while trade is not None and reader.offset < limit:
            trade = reader.next()
    finally:
        reader.close()
    return when


def scenario_tape(story: "Scenario", folder: Path | None, skip_bad: bool = False) -> TapeSource | None:
    """The tape a scenario's `tape:` names: a file next to the scenario, else a shipped one
    (fixtures/tapes); never anything else (the name is a plain file name: no folders, no '..')."""
    name = story.tape
    if name is None:
        return None
    if not NAME.match(name):
        raise TapeError(f"{name[:64]!r}:0: a scenario's tape is a file name next to it, without folders")
    candidates = [folder / name] if folder is not None else []
    candidates.append(data_dir("fixtures") / "tapes" / name)
    for candidate in candidates:
        if candidate.is_file():
            return TapeSource.file(str(candidate), skip_bad)
    raise TapeError(f"{name}:0: no such tape next to the scenario or in the shipped fixtures/tapes")


def shipped(path: str) -> bool:
    """Whether a path is a file under the shipped fixtures/tapes or scenarios folders."""
    resolved = Path(path).resolve()
    for folder in (data_dir("fixtures") / "tapes", data_dir("scenarios")):
        if folder.is_dir() and resolved.is_relative_to(folder.resolve()) and resolved.is_file():
            return True
    return False


def _cost(amount: int, price: int) -> int:
    return -(amount * price // -BTC_SCALE)


class TapePlayer:
    """One world's tape: what plays next, what has played, and how a tape trade meets the book."""

    def __init__(self, source: TapeSource, start: int) -> None:
        self.source = source
        self.start = start
        self.reader = TapeReader(source)
        try:
            self.pending = self.reader.seek(start)
        except BaseException:
            self.reader.close()  # a tape refused at its start leaves no file open
            raise
        self.played = 0
        self.error: str | None = None
        self.last_price: int | None = None

    @property
    def playing(self) -> bool:
        return self.pending is not None

    def opening_price(self) -> int | None:
        """The tape's price at the start: the last trade before it (read back from where the tape
        was entered), else the first one after."""
        before = self._last_before(self.reader.at if self.pending is not None else self.reader.size)
        if before is not None:
            return before
        return self.pending.price if self.pending is not None else None

    def _last_before(self, offset: int) -> int | None:
        if offset <= 0:
            return None
        begin = max(0, offset - 8192)
        with self.source.open() as peek:
            peek.seek(begin)
            lines = peek.read(offset - begin).split(b"\n")
        if begin > 0:
            lines = lines[1:]  # the first piece may be part of a line
        for raw in reversed(lines):
            try:
                trade = parse_line(raw.strip())
            except ValueError:
                continue
            if trade.time < self.start:
                return trade.price
        return None

    def history(self, flow: "RandomFlow", start: int, fair: float) -> list[Trade]:
        """The day before `start`: the tape's trades, after the seeded history (ending at the tape's
        first price of the day, else at `fair`) where the tape has none."""
        reader = TapeReader(self.source)
        taped: list[TapeTrade] = []
        try:
            trade = reader.seek(start - DAY)
            while trade is not None and trade.time < start:
                taped.append(trade)
                trade = reader.next()
        finally:
            reader.close()
        self.reader.skipped += reader.skipped
        first = taped[0].time if taped else start
        price = taped[0].price / FIAT_SCALE if taped else fair
        trades = [t for t in flow.history(first, price) if t.date >= start - DAY] if first > start - DAY else []
        tid = trades[-1].tid if trades else 0
        last = None
        for t in taped:
            tid = max(t.time, tid + 1)  # the tid is the time in microseconds, one more on a collision
            side = t.side if t.side is not None else (ASK if last is not None and t.price < last else BID)
            trades.append(Trade(tid, t.time, "USD", t.price, t.amount, side, 0, 0, "", ""))
            last = t.price
        return trades

    # -- playing ----------------------------------------------------------------------------

    def attach(self, world: "World") -> None:
        """Fund the house and hand the agents the tape (no trades of their own while it plays)."""
        for user in HOUSE:
            world.engine.set_fee(user, 0)
            for currency, amount in HOUSE_FUNDS.items():
                world.engine.deposit(user, currency, amount, world.now)
        world.engine.drain()
        world.flow.passive = self.playing
        if self.pending is not None:
            world.schedule(self.pending.time, "tape")
        world.on_timer("tape", lambda now: self.play(world, now))

    def play(self, world: "World", now: int) -> int | None:
        """Play every tape trade due by `now`; when the next one is due (None: the tape is over)."""
        pending = self.pending
        while pending is not None and pending.time <= now:
            self._trade(world, pending)
            self.played += 1
            try:
                pending = self.reader.next()
            except TapeError as exc:
                self.error = str(exc)
                log.error("tape stopped: %s", exc)
                pending = None
        self.pending = pending
        if pending is None:
            world.flow.passive = False
            return None
        return pending.time

    def _trade(self, world: "World", trade: TapeTrade) -> None:
        book = world.engine.books["USD"]
        price, amount = trade.price, trade.amount
        side = trade.side if trade.side is not None else self._side(book.best_bid(), book.best_ask(), price)
        self._clear(world, price)
        buyer, seller = (TAKER, MAKER) if side == BID else (MAKER, TAKER)
        self._fund(world, seller, "BTC", amount)
        self._fund(world, buyer, "USD", _cost(amount, price))
        world.place(MAKER, ASK if side == BID else BID, amount, price)
        world.place(TAKER, side, amount, price)
        self.last_price = price
        world.flow.fair = world.flow.anchor = price / FIAT_SCALE

    def _side(self, bid: int | None, ask: int | None, price: int) -> int:
        """The taker's side of a trade the tape does not say: a buy at or above the book's mid."""
        if bid is not None and ask is not None:
            return BID if 2 * price >= bid + ask else ASK
        if ask is not None:
            return BID if price >= ask else ASK
        if bid is not None:
            return ASK if price <= bid else BID
        return ASK if self.last_price is not None and price < self.last_price else BID

    def _fund(self, world: "World", user: str, currency: str, need: int) -> None:
        free = world.engine.ledger.accounts[user].available(currency)
        if free < need:
            world.deposit(user, currency, max(need - free, HOUSE_FUNDS[currency]))

    def _clear(self, world: "World", price: int) -> None:
        """Make the book bracket `price` strictly: agents move their orders out of the way, the
        house fills a client's order in the way at the client's price."""
        book = world.engine.books["USD"]
        agents = set(world.flow.agents)
        for _ in range(8):
            in_way = [
                order
                for side, reached in ((book.bids, lambda p: p >= price), (book.asks, lambda p: p <= price))
                for order in _reaching(side.levels, side.keys, reached)
            ]
            if not in_way:
                return
            moved = [(o.user, o.side, o.amount) for o in in_way if o.user in agents]
            for order in in_way:
                if order.user in agents or order.user in HOUSE:
                    world.cancel(order.user, order.oid)
            clients = [o for o in in_way if o.user not in agents and o.user not in HOUSE]
            sell = sum(o.amount for o in clients if o.side == BID)
            buy = sum(o.amount for o in clients if o.side == ASK)
            if sell:
                self._fund(world, TAKER, "BTC", sell)
                world.place(TAKER, ASK, sell, price)
            if buy:
                self._fund(world, TAKER, "USD", _cost(buy, price))
                world.place(TAKER, BID, buy, price)
            for user, side, amount in moved:
                limit = world.flow.requote(side, price / FIAT_SCALE)
                bid, ask = book.best_bid(), book.best_ask()
                if (side == BID and limit < price and (ask is None or limit < ask)) or (
                    side == ASK and limit > price and (bid is None or limit > bid)
                ):
                    world.place(user, side, amount, limit)

    # -- state ------------------------------------------------------------------------------

    def view(self) -> dict[str, Any]:
        pending = self.pending
        return {
            "tape": self.source.name,
            "kind": "text" if self.source.text is not None else "file",
            "skip_bad": self.source.skip_bad,
            "position": {
                **self.reader.position(),
                "next": seconds_text(pending.time) if pending else None,
            },
            "played": self.played,
            "skipped": self.reader.skipped,
            "playing": self.playing,
            "error": self.error,
        }

    def snapshot(self) -> dict[str, Any]:
        source = self.source
        pending = self.pending
        return {
            "name": source.name,
            "path": source.path,
            "text": source.text.decode() if source.text is not None else None,
            "skip_bad": source.skip_bad,
            "start": self.start,
            "offset": self.reader.offset,
            "line": self.reader.line,
            "at": [self.reader.at, self.reader.at_line],
            "last_time": self.reader.last_time,
            "pending": list(pending) if pending is not None else None,
            "played": self.played,
            "skipped": self.reader.skipped,
            "error": self.error,
            "last_price": self.last_price,
        }

    @classmethod
    def restore(cls, state: dict[str, Any], allowed: Callable[[str], bool]) -> "TapePlayer":
        """A player from a snapshot; a file tape only when `allowed(path)` (ValueError in words)."""
        if state["text"] is not None:
            source = TapeSource.posted(state["text"], bool(state["skip_bad"]))
        else:
            path = str(state["path"])
            if not allowed(path):
                raise ValueError(
                    f"the snapshot plays the tape file {path[:200]!r}: a restore plays only the tape this "
                    "world was started with or a shipped one"
                )
            source = TapeSource(str(state["name"]), path=path, skip_bad=bool(state["skip_bad"]))
        player = cls.__new__(cls)
        player.source = source
        player.start = int(state["start"])
        player.reader = TapeReader(source)
        try:
            offset = int(state["offset"])
            if not 0 <= offset <= player.reader.size:
                raise ValueError("the tape position is outside the tape")
            player.reader._goto(offset)
            player.reader.line = state["line"]
            player.reader.at, player.reader.at_line = state["at"]
            player.reader.last_time = state["last_time"]
            player.reader.skipped = int(state["skipped"])
            pending = state["pending"]
            player.pending = TapeTrade(*pending) if pending is not None else None
            player.played = int(state["played"])
            player.error = state["error"]
            player.last_price = state["last_price"]
        except BaseException:
            player.reader.close()  # a snapshot refused part way leaves no file open
            raise
        return player

    def close(self) -> None:
        """Close the tape's file (it is opened again where it was if the tape plays on)."""
        self.reader.close()


def _reaching(levels: dict[int, Any], keys: list[int], reached: Callable[[int], bool]) -> list[Any]:
    """The orders of one book side, best first, while their level's price is `reached`."""
    found: list[Any] = []
    for key in reversed(keys):
        level = levels[key]
        if not reached(level.price):
            break
        found.extend(level.orders.values())
    return found
