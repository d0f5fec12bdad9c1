"""Synthetic trade tapes in the bitcoincharts CSV format, made from a seed (no real data).

    python -m emulator.market.tapegen --seed 20110619 --minutes 40 --out fixtures/tapes/crash-sample.csv

The price follows a seeded random walk around a path: steady, then (with `crash`) a fall to a few
percent of the opening price within minutes and a partial recovery, the shape of MtGox on
2011-06-19. Trades arrive at `rate` a second (Poisson) on whole seconds, so several share a second
as on the real tapes; amounts are log-normal around 1 BTC.
"""

import argparse
import math
import random
import sys
from collections.abc import Iterator

START = 1308484800  # 2011-06-19T12:00:00Z


def _path(progress: float, crash: bool) -> float:
    """The price path as a factor of the opening price, for progress 0..1 through the tape."""
    if not crash or progress < 0.4:
        return 1.0
    if progress < 0.5:  # the fall
        return math.exp(math.log(0.02) * (progress - 0.4) / 0.1)
    return 0.02 + (0.75 - 0.02) * min(1.0, (progress - 0.5) / 0.3)  # the recovery


def lines(
    seed: int, start: int = START, seconds: int = 2400, rate: float = 1.0, price: float = 17.5, crash: bool = True
) -> Iterator[str]:
    rng = random.Random(f"tape:{seed}")
    t = float(start)
    walk = 0.0
    end = start + seconds
    while True:
        t += rng.expovariate(rate)
        if t >= end:
            return
        walk = walk * 0.995 + rng.gauss(0, 0.003)
        level = price * _path((t - start) / seconds, crash) * math.exp(walk)
        amount = min(rng.lognormvariate(0.0, 1.2), 2000.0)
        yield f"{int(t)},{max(level, 0.01):.5f},{max(amount, 0.01):.8f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20110619)
    parser.add_argument("--start", type=int, default=START, help="unix seconds of the first possible trade")
    parser.add_argument("--minutes", type=float, default=40.0)
    parser.add_argument("--rate", type=float, default=1.0, help="trades a second")
    parser.add_argument("--price", type=float, default=17.5)
    parser.add_argument("--steady", action="store_true", help="no crash: a random walk around the price")
    parser.add_argument("--out", default="-")
    args = parser.parse_args(argv)
    made = lines(args.seed, args.start, int(args.minutes * 60), args.rate, args.price, not args.steady)
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="ascii")  # noqa: SIM115
    try:
        for line in made:
            out.write(line + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
