"""`btc-market-emulator serve` and friends."""

import argparse
import gc
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.settings import Settings


FLAGS = ("host", "port", "seed", "speed", "clock", "start", "scenario", "tape")  # serve's flags that are settings


def _serve_parser(commands: Any) -> None:
    serve = commands.add_parser("serve", help="run the emulator (both APIs and the control plane)")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1; env EMULATOR_HOST)")
    serve.add_argument("--port", type=int, help="port (default 8000; env EMULATOR_PORT)")
    serve.add_argument("--seed", type=int, help="world seed (default: the scenario's, else 1; env EMULATOR_SEED)")
    serve.add_argument("--speed", type=float, help="market seconds per wall second (env EMULATOR_SPEED)")
    serve.add_argument("--clock", choices=("realtime", "manual"), help="clock mode (env EMULATOR_CLOCK)")
    serve.add_argument("--start", help="market start instant, ISO 8601 or unix seconds (env EMULATOR_START)")
    serve.add_argument("--scenario", help="scenario name or file (env EMULATOR_SCENARIO)")
    serve.add_argument(
        "--tape", help="a trade tape to play, bitcoincharts CSV unix_time,price,amount (env EMULATOR_TAPE)"
    )
    serve.add_argument("--tape-skip-bad", action="store_true", help="skip and count the tape's malformed lines")
    serve.add_argument("--log-level", default="warning", help="uvicorn log level (default warning)")


def banner(settings: "Settings", port: int, seed: int) -> str:
    host = settings.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    return "\n".join(
        [
            f"btc-market-emulator listening on {host}:{port} (seed {seed}, clock {settings.clock})",
            f"  MtGox HTTP          {base}/code/   (alias {base}/api/0/)",
            f"  MtGox websocket     ws://{shown}:{port}/mtgox",
            f"  BitcoinAverage      {base}/indices/   (websockets under ws://{shown}:{port}/websocket/)",
            f"  API docs            {base}/docs",
            f"  control API         {base}/_emulator/",
            f"  dashboard           {base}/_emulator/ui",
        ]
    )


def serve(args: argparse.Namespace) -> int:
    # Start-up makes a few hundred thousand objects that live as long as the server (modules, routes,
    # the world); the cyclic collector would walk them again and again while they are made. It runs
    # again once the server is up, with those objects frozen out of its way.
    gc.disable()
    from pydantic import ValidationError

    from emulator.app import create_app
    from emulator.server import EmulatorServer
    from emulator.settings import Settings

    overrides: dict[str, Any] = {key: value for key in FLAGS if (value := getattr(args, key)) is not None}
    if args.tape_skip_bad:
        overrides["tape_skip_bad"] = True
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        for problem in exc.errors():
            field = ".".join(str(p) for p in problem["loc"])
            source = f"--{field} or EMULATOR_{field.upper()}" if field in FLAGS else f"EMULATOR_{field.upper()}"
            print(f"serve: {field} ({source}): {problem['msg']}", file=sys.stderr)
        gc.enable()
        return 2
    from emulator.market.tape import TapeError

    try:
        app = create_app(settings)
    except TapeError as exc:  # FILE:LINE: what is wrong
        print(exc, file=sys.stderr)
        gc.enable()
        return 2
    server = EmulatorServer(app, settings.host, settings.port, args.log_level)

    def announce(started: EmulatorServer) -> None:
        seed = app.state.registry.get("default").seed  # the scenario's unless --seed was given
        print(banner(settings, started.port, seed), flush=True)

    server.on_started.append(announce)
    server.on_started.append(_collect_again)
    server.run()
    return 0


def _collect_again(server: object) -> None:
    gc.freeze()
    gc.enable()


def replay(args: argparse.Namespace) -> int:
    from emulator.market.clock import checked_instant, parse_instant
    from emulator.market.scenario import Scenario, ScenarioError, load, parse_duration
    from emulator.market.tape import TapeError, TapeSource, check, scenario_tape
    from emulator.market.world import chosen_seed
    from emulator.replay import write

    if args.scenario is None and args.tape is None:
        print("replay: give a scenario, a --tape, or both", file=sys.stderr)
        return 2
    try:
        story = load(args.scenario) if args.scenario is not None else Scenario(name="tape")
        seconds = parse_duration(args.until)
        checked_instant(args.start)
    except (ScenarioError, ValueError) as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    try:
        tape = TapeSource.file(args.tape, args.tape_skip_bad) if args.tape is not None else None
        checking = tape or scenario_tape(story, story.folder)
        if checking is not None:
            start = args.start or story.start
            check(checking, parse_instant(start) if start else None)
    except TapeError as exc:  # FILE:LINE: what is wrong
        print(exc, file=sys.stderr)
        return 2
    if args.out == "-":
        count = write(story, args.seed, seconds, sys.stdout, tape, args.start)
    else:
        with open(args.out, "w", encoding="utf-8") as out:
            count = write(story, args.seed, seconds, out, tape, args.start)
    seed = chosen_seed(args.seed, story)
    print(f"replay: {count} messages from {story.name} (seed {seed}, {seconds:g} s) to {args.out}", file=sys.stderr)
    return 0


def validate_scenario(args: argparse.Namespace) -> int:
    from emulator.market.scenario import ScenarioError, load

    failed = 0
    for name in args.files:
        try:
            story = load(name)
        except ScenarioError as exc:
            print(exc, file=sys.stderr)
            failed += 1
        else:
            print(f"{name}: ok ({story.name}, {len(story.timeline)} steps)")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="btc-market-emulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    _serve_parser(commands)
    play = commands.add_parser("replay", help="run a scenario headless and write its messages as JSON lines")
    play.add_argument("scenario", nargs="?", help="scenario name or file (optional with --tape)")
    play.add_argument("--tape", help="a trade tape to play (bitcoincharts CSV); the clock starts at its first trade")
    play.add_argument("--tape-skip-bad", action="store_true", help="skip and count the tape's malformed lines")
    play.add_argument("--start", help="market start, ISO 8601 or unix seconds (a tape is entered there)")
    play.add_argument("--seed", type=int, help="world seed (default: the scenario's, else 1)")
    play.add_argument("--until", default="1h", help="market time to run: seconds or 30s, 10m, 1h (default 1h)")
    play.add_argument("--out", default="-", help="output file (default: standard output)")
    check = commands.add_parser("validate-scenario", help="check scenario files; errors name file, line and field")
    check.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "replay":
        return replay(args)
    return validate_scenario(args)


if __name__ == "__main__":
    sys.exit(main())
