"""Requests that arrive while the market is being advanced see a consistent world, never a 500."""

import threading

import httpx
import pytest

from emulator.app import create_app
from emulator.settings import Settings
from emulator.testing import RunningEmulator
from tests.conftest import START_TEXT

READS = [
    "/_emulator/clock",
    "/_emulator/scenario",
    "/code/data/ticker.php",
    "/code/data/getDepth.php",
    "/indices/local/ticker/BTCUSD",
    "/exchanges/count",
]


# half an hour of market by default, three hours under `long`: either is thousands of one-second chunks
@pytest.mark.parametrize("hours", [pytest.param(0.5, id="quick"), pytest.param(3, id="long", marks=pytest.mark.long)])
def test_requests_during_an_advance_are_served_between_chunks(hours: float) -> None:
    app = create_app(Settings(seed=7, clock="manual", start=START_TEXT))
    statuses: list[int] = []
    done = threading.Event()
    with RunningEmulator(app=app) as served:
        base = served.url

        def advance() -> None:
            with httpx.Client(base_url=base, timeout=120) as http:
                statuses.append(http.post("/_emulator/clock/advance", json={"seconds": hours * 3600}).status_code)
            done.set()

        def read() -> None:
            with httpx.Client(base_url=base, timeout=120) as http:
                i = 0
                while not done.is_set():
                    statuses.append(http.get(READS[i % len(READS)]).status_code)
                    if i % 7 == 0:
                        form = {"name": "alice", "pass": "alice-pass", "amount": "0.5", "price": "15"}
                        statuses.append(http.post("/code/buyBTC.php", data=form).status_code)
                    i += 1

        workers = [threading.Thread(target=advance), *(threading.Thread(target=read) for _ in range(2))]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=180)
        world = app.state.registry.get("default")
        bid, ask = world.engine.books["USD"].best_bid(), world.engine.books["USD"].best_ask()
        assert bid is None or ask is None or bid < ask
        assert world.now == world.clock.now(), "the advance played to its end"
    assert len(statuses) > 20, "reads were served while the advance was playing"
    assert all(status < 500 for status in statuses), sorted(set(statuses))
