"""The world: one tenant's whole market state, and the only way to change it.

Everything a client sees is derived from here. Every change goes through a method that stamps it with
market time, drains the engine's events, records trades and publishes on the bus, so the HTTP routes,
the websockets and the BitcoinAverage view always agree.
"""

import asyncio
import heapq
import random
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Self

from emulator.engine import BalanceChange, MatchingEngine, Order, PlaceResult, Record, Trade, facts, trade_of
from emulator.engine.events import CANCELLED, FILL, MOVE, RESTED, settled
from emulator.engine.units import BTC_SCALE, DEFAULT_FEE_PPM, FIAT_SCALE, PPM, parse_units, price_scale
from emulator.market.accounts import Directory, load_demo_accounts
from emulator.market.bus import Bus
from emulator.market.clock import EARLIEST, LATEST, MICROS, Clock, Mode, wall_micros
from emulator.market.clock import parse_instant as parse_instant  # re-exported: where callers look for it
from emulator.market.defaults import DEFAULT_SEED
from emulator.market.flow import RandomFlow
from emulator.market.memo import fresh_identity
from emulator.market.models import MODELS, Model
from emulator.market.scenario_steps import run_step
from emulator.market.tape import TapePlayer, TapeSource, first_trade, scenario_tape, shipped
from emulator.market.trades import TradeLog

if TYPE_CHECKING:  # a world without a scenario starts without the scenario schema
    from emulator.market.scenario import Scenario, Step

CURRENCIES = ("USD",)
FEE_PERCENT = PPM // 100  # fees are given in percent and kept in parts per million
RESET = "reset"  # published on the "reset" topic when the world is rebuilt or restored
WALLET_HISTORY = 10_000  # movements kept per user, for MtGox's history_*.csv
MAX_UNITS = 10**24  # no balance, amount or price a snapshot may hold is larger
QUIET = (RESTED, CANCELLED)  # records that trade nothing and move no wallet


def unit_scale(currency: str) -> int:
    return BTC_SCALE if currency == "BTC" else price_scale(currency)


def chosen_seed(seed: int | None, scenario: "Scenario | None") -> int:
    """The seed a world runs on: the one given (`--seed`), else its scenario's, else DEFAULT_SEED."""
    if seed is not None:
        return seed
    if scenario is not None and scenario.seed is not None:
        return scenario.seed
    return DEFAULT_SEED


class World:
    def __init__(
        self,
        seed: int | None = None,
        start: int | None = None,
        mode: Mode = "realtime",
        speed: float = 1.0,
        wall: Callable[[], int] = wall_micros,
        flow: bool = True,
        scenario: "Scenario | None" = None,
        tape: TapeSource | None = None,
    ) -> None:
        self.bus = Bus()
        self.tape_source = tape  # the operator's or a posted tape; else the scenario's, if it names one
        self.tape: TapePlayer | None = None
        self.flow_enabled = flow
        self.scenario = scenario
        seed = chosen_seed(seed, scenario)
        if scenario is not None:
            start = parse_instant(scenario.start) if scenario.start and start is None else start
        self.configured_start = start  # where a reset goes back to (None: the tape's start, else the wall clock)
        self.wall = wall
        self.tenant = "default"  # the registry names it: what session tokens are bound to
        if start is None:
            start = self._default_start()
        self.models: dict[str, Model] = {}
        self.attachments: dict[str, object] = {}  # runtime helpers (websocket feeds), not state
        self._playing = 0  # plays in progress: they own the catching up
        self.clock = Clock(start if start is not None else wall(), mode, speed, wall)
        self._build(seed)

    def _build(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(f"world:{seed}")
        self.engine = MatchingEngine(CURRENCIES)
        self._trades = TradeLog()
        self.directory = Directory()
        self._wallets: dict[str, deque[BalanceChange]] = {}
        self._unbooked: dict[str, deque[Record]] = {}  # per wallet: records of movements not yet in it
        self.timers: list[tuple[int, int, str]] = []
        self._timer_seq = 0
        self.version = 0  # changes counted in this world (snapshots keep it: deterministic)
        self.epoch = self.identity = fresh_identity()  # never repeated: what caches are keyed on
        self.now = self.clock.now()
        self.started = self.now
        self.exchange_status: dict[str, dict[str, Any]] = {}  # BitcoinAverage exchanges a scenario changed
        self.transactions: dict[str, int] = {}  # blockchain transactions added at run time: hash -> unix seconds
        self.scenario_done = 0
        market = self.scenario.market if self.scenario is not None else None
        if self.tape is not None:
            self.tape.close()
        source = self._tape()
        self.tape = TapePlayer(source, self.now) if source is not None else None
        tape_price = self.tape.opening_price() if self.tape is not None else None
        self.flow = RandomFlow(
            seed,
            self.flow_enabled and (market is None or market.flow),
            tape_price / FIAT_SCALE if tape_price else float(market.price) if market and market.price else None,
            market.levels if market else 450,
            market.interval if market else 1.0,
            market.volatility if market else 0.0002,
        )
        self.opening_price = self.flow.anchor  # USD per BTC when the world started; BitcoinAverage's level
        self._load_demo_accounts()
        self.flow.prime(self)
        self._history: Callable[[], list[Trade]] | None = partial(self.flow.history, self.now, self.flow.fair)
        self.schedule(self.now + MICROS, "flow")
        self._handlers: dict[str, Callable[[int], int | None]] = {"flow": lambda now: self.flow.step(self, now)}
        if self.tape is not None:
            self._history = partial(self.tape.history, self.flow, self.now, self.flow.fair)
            self.tape.attach(self)
        if self.scenario is not None:
            for index, step in enumerate(self.scenario.timeline):
                self.schedule(self.started + int(step.at * MICROS), f"scenario:{index}")
            self._scenario_handlers()

    def close(self) -> None:
        """Let go of what the world holds open (its tape's file): for a world being discarded, or at
        shutdown. A world used after it is closed works as before: its tape opens its file again where
        it was (TapeReader.close), so closing never breaks whoever still holds the world."""
        if self.tape is not None:
            self.tape.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _tape(self) -> TapeSource | None:
        """The tape this world plays: the operator's or a posted one, else its scenario's."""
        if self.tape_source is not None:
            return self.tape_source
        if self.scenario is not None and self.scenario.tape is not None:
            return scenario_tape(self.scenario, self.scenario.folder)
        return None

    def _default_start(self) -> int:
        """Where the clock starts when no start is given: the tape's first trade, else the wall clock."""
        source = self._tape()
        return first_trade(source).time if source is not None else self.wall()

    def changed(self) -> None:
        """Note a change made beside the engine (accounts, transactions, exchange status): answers
        derived from the world as it was are not to be served again."""
        self.identity = fresh_identity()

    def state_key(self) -> tuple[int, int]:
        """What a cached answer of this world at this market second is keyed on (see market.memo)."""
        return self.identity, self.now // MICROS

    def trades_if_made(self) -> TradeLog:
        """The trade log without making the day of history (for looking at a world from outside)."""
        return self._trades

    @property
    def wallets(self) -> dict[str, deque[BalanceChange]]:
        """Each user's last WALLET_HISTORY wallet movements (MtGox's history). The world keeps the
        records that moved a wallet (MOVE records, and each FILL's SETTLED record, which holds no
        orders) and makes the movements from them when they are read: most are never read, and
        making them was a good part of what every trade cost."""
        for name, unbooked in self._unbooked.items():
            if unbooked:
                self._wallets[name].extend(
                    change
                    for change in facts(unbooked, (BalanceChange,))
                    if isinstance(change, BalanceChange) and change.user == name
                )
                unbooked.clear()
        return self._wallets

    @property
    def trades(self) -> TradeLog:
        """Every trade: the day of history before the start, then the live ones. The history is made
        on first use, so a server answers before it has built it; it is the same whenever it is made."""
        if self._history is not None:
            history, self._history = self._history, None
            self._trades.extend(history())
        return self._trades

    def _scenario_handlers(self) -> None:
        assert self.scenario is not None
        for index, step in enumerate(self.scenario.timeline):
            self._handlers[f"scenario:{index}"] = self._step_runner(step)

    def _step_runner(self, step: "Step") -> Callable[[int], None]:
        def run(now: int) -> None:
            self.scenario_done += 1
            run_step(self, step)
            self.changed()  # a step may change what the engine does not see (exchanges, keys, faults)

        return run

    def stop_scenario(self) -> None:
        """Drop the scenario's pending steps; the market carries on from where it is."""
        self.timers = [t for t in self.timers if not t[2].startswith("scenario:")]
        heapq.heapify(self.timers)

    def model(self, name: str) -> Model:
        """The model registered as `name`, made on first use."""
        found = self.models.get(name)
        if found is None:
            found = self.models[name] = MODELS[name](self)
        return found

    def reset(
        self,
        seed: int | None = None,
        start: int | None = None,
        flow: bool | None = None,
        scenario: "Scenario | None" = None,
        clear_scenario: bool = False,
    ) -> None:
        """Back to a fresh world (same bus, so open subscriptions survive); models are cleared.

        With flow=False the world starts quiet: history, but no agents' book and no order flow.
        A new scenario brings its own seed and start unless they are given; without one the world
        keeps the scenario it had (clear_scenario drops it).
        """
        if flow is not None:
            self.flow_enabled = flow
        if scenario is not None:
            self.scenario = scenario
            seed = seed if seed is not None else scenario.seed
            if start is None and scenario.start:
                start = parse_instant(scenario.start)
            elif start is None and scenario.tape is not None and self.tape_source is None:
                start = self._default_start()  # a scenario's tape starts at its first trade
        elif clear_scenario:
            self.scenario = None
        if start is None:
            start = self.configured_start if self.configured_start is not None else self._default_start()
        self.clock = Clock(start, self.clock.mode, self.clock.speed, self.wall)
        self._build(self.seed if seed is None else seed)
        for model in self.models.values():
            model.restore({})
        self.bus.publish("reset", RESET)

    def _load_demo_accounts(self) -> None:
        fixture = load_demo_accounts()
        for spec in fixture["users"]:
            self.add_user(spec["name"], spec["password"], spec.get("balances", {}), spec.get("fee"))
            user = self.directory.users[spec["name"].lower()]
            for key in spec.get("mtgox_keys", []):
                self.directory.add_mtgox_key(user, self.rng, key["key"], key["secret"])
        for key in fixture["bitcoinaverage_keys"]:
            self.directory.add_average_key(key["plan"], self.rng, key["public_key"], key["secret_key"])
        self.engine.drain()

    # -- time -------------------------------------------------------------------------------

    def schedule(self, due: int, name: str) -> None:
        self._timer_seq += 1
        heapq.heappush(self.timers, (due, self._timer_seq, name))

    def on_timer(self, name: str, handler: Callable[[int], int | None]) -> None:
        """Register what a named timer does; a handler returns when it wants to run next, or None."""
        self._handlers[name] = handler

    def sync(self, until: int | None = None) -> int:
        """Play every timer due up to the clock's now (or `until`, if earlier), in market-time order.

        While a play() is in progress the world stays at its chunk boundary: a request arriving then
        sees a consistent world and does not swallow the rest of the play in one blocking go."""
        if self._playing:
            return self.now
        return self._run(until)

    def _run(self, until: int | None) -> int:
        target = self.clock.now() if until is None else min(until, self.clock.now())
        timers = self.timers
        while timers and timers[0][0] <= target:
            due, _, name = heapq.heappop(timers)
            self.now = max(self.now, due)
            handler = self._handlers.get(name)
            following = handler(due) if handler else None
            if following is not None:
                self.schedule(following, name)
        self.now = max(self.now, target)
        if self.now - self._trades.keep > self.started:
            self.trades.forget_before(self.now)
        return self.now

    def advance(self, seconds: float) -> int:
        self.clock.advance(int(seconds * MICROS))
        return self.sync()

    async def play(self, chunk: int = MICROS) -> int:
        """Catch up with the clock one chunk of market time at a time, letting the event loop run in
        between, so websocket writers drain a long advance as it happens instead of all at the end.
        The events are the same as one sync(): timers run in market-time order either way."""
        self._playing += 1
        try:
            while self.clock.now() - self.now > chunk:
                self._run(self.now + chunk)
                await asyncio.sleep(0)
            return self._run(None)
        finally:
            self._playing -= 1

    # -- changes ----------------------------------------------------------------------------

    def name_taken(self, name: str) -> bool:
        """A user's, or a ledger account's the market keeps for itself (the agents, fees, a tape's
        house): a new account by that name would share its money."""
        return self.directory.user(name) is not None or name in self.engine.ledger.accounts

    def add_user(
        self, name: str, password: str, balances: dict[str, str] | None = None, fee: str | None = None
    ) -> None:
        """Open an account; ValueError (and nothing changed) for a fee outside [0, 100) percent or a
        negative or unparsable balance."""
        if self.name_taken(name):
            raise ValueError(f"account {name!r} exists")
        fee_ppm = DEFAULT_FEE_PPM if fee is None else parse_units(fee, FEE_PERCENT)
        if not 0 <= fee_ppm < PPM:
            raise ValueError("fee is a percentage from 0 up to (not including) 100")
        deposits = {
            currency: parse_units(str(amount), unit_scale(currency)) for currency, amount in (balances or {}).items()
        }
        if any(units < 0 for units in deposits.values()):
            raise ValueError("balances cannot be negative")
        user = self.directory.add_user(name, password, fee_ppm, self.rng)
        self.changed()
        self._wallets[user.name] = deque(maxlen=WALLET_HISTORY)
        self._unbooked[user.name] = deque(maxlen=WALLET_HISTORY)  # a record moves a wallet once or more
        self.engine.set_fee(user.name, fee_ppm)
        for currency, units in deposits.items():
            if units > 0:
                self.deposit(user.name, currency, units)

    def place(self, user: str, side: int, amount: int, price: int | None, currency: str = "USD") -> PlaceResult:
        result = self.engine.place(user, side, amount, price, self.now, currency)
        self._publish()
        return result

    def cancel(self, user: str, oid: int) -> Order | None:
        order = self.engine.cancel(user, oid, self.now)
        self._publish()
        return order

    def deposit(self, user: str, currency: str, amount: int) -> None:
        self.engine.deposit(user, currency, amount, self.now)
        self._publish()

    def withdraw(self, user: str, currency: str, amount: int) -> None:
        self.engine.withdraw(user, currency, amount, self.now)
        self._publish()

    def _publish(self) -> None:
        """Book what the engine reported (trades into the trade log, wallet movements into their
        wallets' queues) and hand the records to the bus, which makes facts only for the topics
        somebody listens to."""
        records = self.engine.drain()
        if not records:
            return
        self.version += 1
        self.identity = fresh_identity()
        if len(records) == 1 and records[0][0] in QUIET:  # the commonest operations: no trade, no wallet
            self.bus.deliver(records, [], self.version)
            return
        made: list[Trade] = []
        for record in records:
            tag = record[0]
            if tag == FILL:
                made.append(self._settle(record))
            elif tag == MOVE:
                wallet = self._unbooked.get(record[1])
                if wallet is not None:
                    wallet.append(record)
        if made:
            self.trades.extend(made)  # through the property: the day of history goes first
        self.bus.deliver(records, made, self.version)

    def _settle(self, fill: Record) -> Trade:
        """The trade of a FILL record, its SETTLED record kept for the wallets of its parties (once
        for a trade with oneself)."""
        trade = trade_of(fill)
        seller, buyer = trade.seller, trade.buyer
        unbooked = self._unbooked
        wallet = unbooked.get(seller)
        if wallet is not None:
            record = settled(fill)
            wallet.append(record)
            if buyer != seller:
                wallet = unbooked.get(buyer)
                if wallet is not None:
                    wallet.append(record)
        else:
            wallet = unbooked.get(buyer)
            if wallet is not None:
                wallet.append(settled(fill))
        return trade

    # -- snapshot ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        version, state, gauss = self.rng.getstate()
        return {
            "seed": self.seed,
            "clock": {"mode": self.clock.mode, "speed": self.clock.speed, "now": self.clock.now()},
            "now": self.now,
            "started": self.started,
            "version": self.version,
            "rng": [version, list(state), gauss],
            "engine": self.engine.snapshot(),
            "trades": self.trades.rows(),
            "timers": [list(t) for t in self.timers],
            "timer_seq": self._timer_seq,
            "flow": self.flow.snapshot(),
            "opening_price": self.opening_price,
            "directory": self.directory.snapshot(),
            "scenario": self.scenario.model_dump(by_alias=True, exclude_unset=True) if self.scenario else None,
            "scenario_done": self.scenario_done,
            "exchange_status": self.exchange_status,
            "transactions": self.transactions,
            "flow_enabled": self.flow_enabled,
            "wallets": {
                name: [[c.currency, c.delta, c.balance, c.kind, c.date] for c in changes]
                for name, changes in self.wallets.items()
            },
            "models": {name: saved for name, model in self.models.items() if (saved := model.snapshot())},
            "tape": self.tape.snapshot() if self.tape is not None else None,
        }

    def restore(self, state: dict[str, Any]) -> None:
        clock = state["clock"]
        self.clock = Clock(clock["now"], clock["mode"], clock["speed"], self.wall)
        self.seed = state["seed"]
        self.now = state["now"]
        self.started = state["started"]
        self.version = state["version"]
        self.epoch = self.identity = fresh_identity()  # the restored world is not the one it was saved from
        version, internal, gauss = state["rng"]
        self.rng = random.Random()
        self.rng.setstate((version, tuple(internal), gauss))
        self.engine = MatchingEngine.restore(state["engine"])
        self._trades = TradeLog()
        self._trades.extend(Trade(*row) for row in state["trades"])
        self._history = None
        self.timers = [(due, seq, name) for due, seq, name in state["timers"]]
        self._timer_seq = state["timer_seq"]
        self.flow = RandomFlow(self.seed)
        self.flow.restore(state["flow"])
        self.flow_enabled = state["flow_enabled"]
        self.opening_price = state["opening_price"]
        if state["scenario"]:
            from emulator.market.scenario import Scenario

            self.scenario = Scenario.model_validate(state["scenario"])
        else:
            self.scenario = None
        self.scenario_done = state["scenario_done"]
        self.exchange_status = state["exchange_status"]
        self.transactions = dict(state["transactions"])
        if self.scenario is not None:
            self._scenario_handlers()
        self._handlers["flow"] = lambda now: self.flow.step(self, now)
        self._restore_tape(state.get("tape"))  # absent in older snapshots
        self.directory = Directory.restore(state["directory"])
        self._wallets = {
            name: deque((BalanceChange(name, *row) for row in rows), maxlen=WALLET_HISTORY)
            for name, rows in state["wallets"].items()
        }
        self._unbooked = {name: deque(maxlen=WALLET_HISTORY) for name in self._wallets}
        for name in state["models"]:
            if name in MODELS:
                self.model(name)  # a model the snapshot has and this world had not made yet
        for name, model in self.models.items():
            model.restore(state["models"].get(name, {}))  # a model with nothing in it was left out
        self._check_numbers()
        self.bus.publish("reset", RESET)

    def _restore_tape(self, state: dict[str, Any] | None) -> None:
        """The tape a snapshot was playing, at its position; a file tape only if it is this world's
        own (operator's or scenario's) tape or a shipped one: a snapshot is posted over HTTP."""
        own = self._tape()

        def allowed(path: str) -> bool:
            return (own is not None and own.path == path) or shipped(path)

        player = TapePlayer.restore(state, allowed) if state is not None else None
        if self.tape is not None and self.tape is not player:
            self.tape.close()
        self.tape = player
        self.flow.passive = player is not None and player.playing
        if player is not None:
            self.on_timer("tape", lambda now: player.play(self, now))
        else:
            self._handlers.pop("tape", None)

    def _check_numbers(self) -> None:
        """ValueError, in words, when a restored world holds numbers no operation could have made
        (a hand-edited snapshot): the caller then puts the world back as it was."""
        if not EARLIEST <= self.now <= LATEST or not EARLIEST <= self.started <= LATEST:
            raise ValueError("the clock is outside 2009-01-03 .. 2100-01-01")
        for account in self.engine.ledger.accounts.values():
            if not (type(account.fee_ppm) is int and 0 <= account.fee_ppm < PPM):
                raise ValueError(f"account {account.name!r}: the fee must be an integer from 0 to {PPM - 1} ppm")
            for currency, units in (*account.balance.items(), *account.held.items()):
                if not (type(units) is int and 0 <= units <= MAX_UNITS):
                    raise ValueError(f"account {account.name!r}: {currency} must be a whole number of units from 0")
        for order in self.engine.orders.values():
            if type(order.amount) is not int or order.amount <= 0 or order.amount > MAX_UNITS:
                raise ValueError(f"order {order.oid}: the amount must be a positive whole number of units")
            if order.price is not None and (type(order.price) is not int or not 0 < order.price <= MAX_UNITS):
                raise ValueError(f"order {order.oid}: the price must be a positive whole number of units")
