from emulator.market.clock import Clock


class FakeWall:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


def test_manual_clock_moves_only_when_advanced() -> None:
    wall = FakeWall()
    clock = Clock(5_000, "manual", wall=wall)
    wall.now += 10**9
    assert clock.now() == 5_000
    assert clock.advance(2_000) == 7_000


def test_realtime_clock_runs_at_speed_and_switching_mode_does_not_jump() -> None:
    wall = FakeWall()
    clock = Clock(0, "realtime", speed=10, wall=wall)
    wall.now += 1_000
    assert clock.now() == 10_000
    clock.configure(mode="manual")
    wall.now += 1_000
    assert clock.now() == 10_000
    clock.configure(mode="realtime", speed=2)
    wall.now += 500
    assert clock.now() == 11_000


def test_clock_refuses_nonsense() -> None:
    clock = Clock(0, "manual")
    for bad in (lambda: clock.advance(-1), lambda: clock.configure(speed=0), lambda: clock.configure(mode="x")):  # type: ignore[arg-type]
        try:
            bad()
        except ValueError:
            continue
        raise AssertionError("expected ValueError")
