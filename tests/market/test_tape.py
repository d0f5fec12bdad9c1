"""Trade tapes: every line one engine trade, streamed, entered by binary search, clear errors."""

import random
from collections import Counter
from pathlib import Path

import orjson
import pytest

from emulator.cli import main
from emulator.engine import ASK, BID
from emulator.engine.units import BTC_SCALE, FIAT_SCALE
from emulator.market.clock import MICROS
from emulator.market.scenario import ScenarioError, parse
from emulator.market.tape import (
    HOUSE,
    TapeError,
    TapeReader,
    TapeSource,
    check,
    parse_line,
    scenario_tape,
)
from emulator.market.tapegen import lines
from emulator.market.world import World

T0 = 1308484800


def tape_text(count: int = 300, seed: int = 3, sides: bool = False) -> str:
    """A small tape: whole seconds (several trades share some), a walk around $17, some sides given."""
    rng = random.Random(seed)
    t, price, out = T0, 17.0, []
    for i in range(count):
        t += rng.choice((0, 0, 1, 2, 3))
        price = max(0.5, price * (1 + rng.gauss(0, 0.004)))
        side = ("," + rng.choice(("buy", "sell"))) if sides and i % 3 == 0 else ""
        out.append(f"{t},{price:.5f},{rng.uniform(0.01, 30):.8f}{side}")
    return "\n".join(out) + "\n"


def expected(text: str) -> list[tuple[int, int, int, int, int | None]]:
    """(tid, date, price, amount, side) the engine must give each line: the tid is the time in
    microseconds, one more for each earlier trade of the same microsecond."""
    rows, last = [], 0
    for raw in text.splitlines():
        trade = parse_line(raw.encode())
        last = max(trade.time, last + 1)
        rows.append((last, trade.time, trade.price, trade.amount, trade.side))
    return rows


def taped(world: World) -> list[tuple[int, int, int, int, int]]:
    return [
        (t.tid, t.date, t.price, t.amount, t.taker_side)
        for t in world.trades.trades
        if t.date >= world.started and t.buyer in HOUSE and t.seller in HOUSE
    ]


def totals(world: World) -> Counter[str]:
    sums: Counter[str] = Counter()
    for account in world.engine.ledger.accounts.values():
        sums.update(account.balance)
    return sums


def test_every_line_becomes_one_engine_trade_in_order_with_microsecond_tids() -> None:
    text = tape_text(sides=True)
    world = World(seed=7, mode="manual", tape=TapeSource.posted(text))
    assert world.now == T0 * MICROS + expected(text)[0][1] - T0 * MICROS  # starts at the first trade
    deposits: list[int] = []
    feed = world.bus.subscribe(["balance"], maxsize=10**6)
    before = totals(world)
    for _ in range(20):
        world.advance(37)
    want = expected(text)
    got = taped(world)
    assert [g[:4] for g in got] == [w[:4] for w in want]
    assert all(g[4] == w[4] for g, w in zip(got, want, strict=True) if w[4] is not None)
    during = world.trades.between(world.started, want[-1][1])
    assert [t.tid for t in during] == [w[0] for w in want]  # the agents traded nothing of their own
    assert len(world.trades.between(want[-1][1] + 1, world.now)) > 10  # and trade again once it is over
    assert world.tape is not None and world.tape.played == len(want) and not world.tape.playing
    deposits = [e.delta for e in feed.drain() if e.kind == "deposit" and e.currency == "BTC"]
    assert totals(world)["BTC"] == before["BTC"] + sum(deposits)  # no BTC made or lost
    book = world.engine.books["USD"]
    assert book.best_bid() is not None and book.best_ask() is not None
    assert book.best_bid() < book.best_ask()  # type: ignore[operator]


def test_the_day_before_comes_from_the_tape_and_seeded_history_only_before_it() -> None:
    text = tape_text(600)
    rows = expected(text)
    middle = rows[400][1]
    world = World(seed=7, start=middle, mode="manual", tape=TapeSource.posted(text))
    history = world.trades.between(world.started - 86_400 * MICROS, world.started - 1)
    from_tape = [(t.tid, t.date, t.price, t.amount) for t in history if t.date >= rows[0][1]]
    assert from_tape == [r[:4] for r in rows if r[1] < middle]
    assert history[0].date < rows[0][1]  # seeded before the tape's first trade
    world.advance(30)
    assert taped(world)[0][:4] == next(r[:4] for r in rows if r[1] >= middle)


def test_a_client_order_crossing_the_book_fills_at_a_book_price_and_the_tape_goes_on() -> None:
    text = tape_text()
    want = expected(text)
    world = World(seed=7, mode="manual", tape=TapeSource.posted(text))
    world.add_user("tapewatcher", "pw", {"USD": "100000", "BTC": "100"})
    before = totals(world)
    world.advance(60)
    ask = world.engine.books["USD"].best_ask()
    assert ask is not None
    result = world.place("tapewatcher", BID, 2 * BTC_SCALE, ask + 5 * FIAT_SCALE)
    mine = [t for t in world.trades.trades if t.buyer == "tapewatcher"]
    assert result.filled > 0 and mine and mine[0].price == ask and mine[0].seller.startswith("agent-")
    # a resting bid the tape's price later goes through is filled at its own price by the house
    low = min(r[2] for r in want[len(taped(world)) :])
    world.place("tapewatcher", BID, BTC_SCALE, low + 100)
    world.advance(900)
    # the same trades; a tid is one more where the house's fill took the tape trade's microsecond
    assert [g[1:4] for g in taped(world)] == [w[1:4] for w in want]
    swept = [t for t in world.trades.trades if t.buyer == "tapewatcher" and t.price == low + 100]
    assert swept and swept[0].seller in HOUSE
    assert totals(world)["BTC"] == before["BTC"]  # tapewatcher's and the agents' funds sufficed: no deposits


def test_two_runs_give_the_same_bytes_and_a_snapshot_resumes_the_tape(tmp_path: Path) -> None:
    text = tape_text(400)

    def run(split: bool) -> bytes:
        world = World(seed=5, mode="manual", tape=TapeSource.posted(text))
        world.advance(200)
        if split:
            saved = orjson.loads(orjson.dumps(world.snapshot()))
            world = World(seed=99, mode="manual")
            world.restore(saved)
            assert world.tape is not None and world.tape.played > 0
        world.advance(1000)
        return orjson.dumps(world.snapshot())

    assert run(False) == run(False) == run(True)


def test_a_snapshot_may_name_only_this_worlds_tape_file_or_a_shipped_one(tmp_path: Path) -> None:
    tape = tmp_path / "t.csv"
    tape.write_text(tape_text(50))
    with World(seed=5, mode="manual", tape=TapeSource.file(str(tape))) as world:
        world.advance(20)
        saved = world.snapshot()
    assert saved["tape"]["path"] == str(tape) and saved["tape"]["text"] is None
    with World(seed=5, mode="manual", tape=TapeSource.file(str(tape))) as same:
        same.restore(saved)
    other = World(seed=5, mode="manual")
    with pytest.raises(ValueError, match="a restore plays only the tape"):
        other.restore({**saved, "tape": {**saved["tape"], "path": "/etc/passwd"}})


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (f"{T0},17.5,1\n{T0},abc,1\n", ":2: the price 'abc' is not a plain decimal number"),
        (f"{T0},17.5,1\n\n{T0 + 5},17.5,1\n{T0 + 2},17.5,1\n", f":4: out of order: {T0 + 2} is before {T0 + 5}"),
        (f"{T0},17.5\n", ":1: expected unix_time,price,amount[,side]; found 2 fields"),
        (f"{T0},17.5,0\n", ":1: the amount must be from 0.00000001 to 21000000 BTC"),
        (f"{T0},17.5,1,maybe\n", ":1: the side 'maybe' is not buy or sell"),
    ],
)
def test_a_malformed_or_unsorted_tape_stops_the_start_with_file_line_and_what(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, problem: str
) -> None:
    path = write(tmp_path, "bad.csv", text)
    assert main(["replay", "--tape", path, "--until", "10s", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(path + problem) and err.count("\n") == 1
    with pytest.raises(TapeError) as refused:
        check(TapeSource.posted(text), None)
    assert str(refused.value).startswith("<posted>" + problem)


def test_skip_bad_skips_and_counts(tmp_path: Path) -> None:
    text = f"unix_time,price,amount\n{T0},17.5,1\n{T0},x,1\n{T0 + 1},17.6,1\n{T0 - 9},17.6,1\n{T0 + 2},17.7,2\n"
    world = World(seed=1, mode="manual", tape=TapeSource.posted(text, skip_bad=True))
    world.advance(5)
    assert world.tape is not None
    view = world.tape.view()
    assert (view["played"], view["skipped"], view["playing"]) == (3, 2, False)


def test_the_tape_is_entered_by_binary_search_and_errors_still_name_their_line(tmp_path: Path) -> None:
    text = "".join(line + "\n" for line in lines(4, seconds=20_000, rate=2.0, crash=False))
    path = write(tmp_path, "big.csv", text)
    rows = [parse_line(r.encode()) for r in text.splitlines()]
    rng = random.Random(1)
    for when in [rows[0].time - 1, rows[-1].time + 1, *(rng.choice(rows).time + rng.choice((0, 1)) for _ in range(20))]:
        reader = TapeReader(TapeSource.file(path))
        found = reader.seek(when)
        assert found == next((r for r in rows if r.time >= when), None)
        assert found is None or found.time < rows[1000].time or reader.line is None  # not read from the top
        reader.close()
    broken = text.splitlines()
    broken[30_000] = "oops"
    path = write(tmp_path, "broken.csv", "\n".join(broken) + "\n")
    reader = TapeReader(TapeSource.file(path))
    reader.seek(rows[29_990].time)
    with pytest.raises(TapeError, match=r"broken.csv:30001: expected unix_time"):
        while reader.next() is not None:
            pass
    reader.close()


def test_a_scenario_tape_is_a_file_name_next_to_it_or_a_shipped_one(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="tape"):
        parse("name: x\ntape: ../secret.csv\n")
    with pytest.raises(ScenarioError, match="tape"):
        parse("name: x\ntape: /etc/passwd\n")
    story = parse("name: x\ntape: crash-sample.csv\n")
    shipped = scenario_tape(story, None)
    assert shipped is not None and shipped.path is not None and shipped.path.endswith("fixtures/tapes/crash-sample.csv")
    (tmp_path / "crash-sample.csv").write_text(f"{T0},1,1\n")
    mine = scenario_tape(story, tmp_path)
    assert mine is not None and mine.path == str(tmp_path / "crash-sample.csv")


def test_replay_with_a_tape_is_byte_identical_and_carries_the_tape(tmp_path: Path) -> None:
    path = write(tmp_path, "t.csv", tape_text(200, sides=True))
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert main(["replay", "--tape", path, "--until", "60s", "--out", str(out)]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    trades = [orjson.loads(x)["data"]["trade"] for x in outs[0].splitlines() if b'"channel":"trade"' in x]
    want = [r for r in expected(tape_text(200, sides=True)) if r[1] <= T0 * MICROS + 120 * MICROS + 0]
    first = want[0][1]
    want = [r for r in want if r[1] <= first + 60 * MICROS]
    assert [(int(t["tid"]), int(t["price_int"]), int(t["amount_int"])) for t in trades] == [
        (r[0], r[2], r[3]) for r in want
    ]
    assert all(t["trade_type"] == {BID: "bid", ASK: "ask"}[r[4]] for t, r in zip(trades, want, strict=True) if r[4])


def test_serve_refuses_a_malformed_tape_in_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = write(tmp_path, "bad.csv", f"{T0},17.5,1\n{T0},17.5,1,2\n")
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", "--tape", path],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == f"{path}:2: the side '2' is not buy or sell\n"


def test_a_closed_world_lets_go_of_its_tape_file_and_plays_on_if_still_used(tmp_path: Path) -> None:
    tape = write(tmp_path, "t.csv", tape_text(300))

    def run(close: bool) -> bytes:
        with World(seed=5, mode="manual", tape=TapeSource.file(tape)) as world:
            world.advance(10)
            assert world.tape is not None
            if close:  # as a dropped tenant's world is while a request still holds it
                world.close()
                assert world.tape.reader.file.closed
            world.advance(100)
        assert world.tape.reader.file.closed
        return orjson.dumps(world.snapshot())

    assert run(True) == run(False)
