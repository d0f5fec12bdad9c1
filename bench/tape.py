"""Tape playback speed, start-up on a big tape, and memory.

    python bench/tape.py [--lines 10000000] [--seconds 3600]

Makes a synthetic tape (emulator.market.tapegen, ~2 trades a second, the density of the June 2011
crash) of --lines lines in a temporary folder (once; ~300 MB for 10 million), then:
- start-up: seconds to build a world entered in the middle of the tape (binary search, the day
  before read from the tape), target < 2 s whatever the size;
- playback: --seconds of market time played on the manual clock: tape trades per wall second and
  market seconds per wall second (target >= 1000x real time);
- peak RSS of the process, target < 200 MB.
"""

import argparse
import resource
import tempfile
import time
from pathlib import Path

from emulator.market.clock import MICROS
from emulator.market.tape import TapeSource
from emulator.market.tapegen import START, lines
from emulator.market.world import World

RATE = 2.0


def make(path: Path, count: int) -> None:
    seconds = int(count / RATE) + 1
    with path.open("w", encoding="ascii") as out:
        for written, line in enumerate(lines(7, START, seconds, RATE, crash=False), 1):
            out.write(line + "\n")
            if written >= count:
                break


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=float, default=3600.0)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args()
    path = Path(args.dir) / f"bench-tape-{args.lines}.csv"
    if not path.exists():
        began = time.perf_counter()
        make(path, args.lines)
        print(f"made {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - began:.0f} s")
    middle = START + int(args.lines / RATE / 2)
    began = time.perf_counter()
    world = World(seed=1, start=middle * MICROS, mode="manual", tape=TapeSource.file(str(path)))
    len(world.trades)  # the day before, from the tape
    startup = time.perf_counter() - began
    assert world.tape is not None
    played = world.tape.played
    began = time.perf_counter()
    world.advance(args.seconds)
    wall = time.perf_counter() - began
    trades = world.tape.played - played
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"start-up in the middle of {args.lines:,} lines: {startup:.2f} s (target < 2 s)")
    print(
        f"playback: {trades / wall:,.0f} tape trades per wall second, {args.seconds / wall:,.0f} market seconds "
        f"per wall second (target >= 1000x); peak RSS {rss:.0f} MB (target < 200 MB)"
    )


if __name__ == "__main__":
    main()
