"""`btc-market-emulator serve` and friends.

Ordinary mistakes (a bad flag or EMULATOR_* value, an unknown or broken scenario, a host that is not
this machine's, a port in use, an output folder that does not exist) end with one line on stderr
naming the setting and the fix, and exit status 2: a traceback would bury the one thing to change.
Ctrl-C (or SIGTERM) at any moment of `serve` shuts it down gracefully and quietly, exit status 0.
"""

import argparse
import errno
import gc
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

from emulator import __version__
from emulator.market.defaults import DEFAULT_SEED

if TYPE_CHECKING:
    from emulator.server import EmulatorServer
    from emulator.settings import Settings


# serve's flags that are settings
FLAGS = ("host", "port", "seed", "speed", "clock", "start", "scenario", "scenarios_dir", "state", "tape")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


class UsageError(Exception):
    """A setting the command cannot work with; the message names it and says what to do."""


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (argparse prints the whole usage first) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _shipped_scenarios() -> str:
    from emulator.paths import data_dir  # a glob of the shipped folder: no YAML parsed for --help

    try:
        return ", ".join(sorted(p.stem for p in data_dir("scenarios").glob("*.yaml")))
    except FileNotFoundError:
        return "(none found)"


def _serve_parser(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the emulator (both APIs and the control plane)",
        epilog=f"shipped scenarios (for --scenario): {_shipped_scenarios()}",
    )
    serve.add_argument("--host", help="address to bind (default 127.0.0.1; env EMULATOR_HOST)")
    serve.add_argument("--port", type=int, help="port (default 8000, 0 picks a free one; env EMULATOR_PORT)")
    serve.add_argument(
        "--seed", type=int, help=f"world seed (default: the scenario's, else {DEFAULT_SEED}; env EMULATOR_SEED)"
    )
    serve.add_argument("--speed", type=float, help="market seconds per wall second (env EMULATOR_SPEED)")
    serve.add_argument("--clock", choices=("realtime", "manual"), help="clock mode (env EMULATOR_CLOCK)")
    serve.add_argument("--start", help="market start instant, ISO 8601 or unix seconds (env EMULATOR_START)")
    serve.add_argument("--scenario", help="a shipped scenario's name (listed below) or a file (env EMULATOR_SCENARIO)")
    serve.add_argument(
        "--scenarios-dir",
        help="a folder of your scenarios, which clients may also load by name (env EMULATOR_SCENARIOS_DIR)",
    )
    serve.add_argument(
        "--tape", help="a trade tape to play, bitcoincharts CSV unix_time,price,amount (env EMULATOR_TAPE)"
    )
    serve.add_argument("--tape-skip-bad", action="store_true", help="skip and count the tape's malformed lines")
    serve.add_argument(
        "--state",
        metavar="FILE",
        help="load the worlds from FILE at start when it exists; save them there on shutdown and on "
        "POST /_emulator/state/save (env EMULATOR_STATE)",
    )
    serve.add_argument(
        "--log-level", default="warning", type=str.lower, choices=LOG_LEVELS, help="uvicorn log level (default warning)"
    )


def banner(settings: "Settings", port: int, seed: int) -> str:
    host = settings.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    lines = [
        f"btc-market-emulator listening on {host}:{port} (seed {seed}, clock {settings.clock})",
        f"  MtGox HTTP          {base}/code/   (alias {base}/api/0/)",
        f"  MtGox websocket     ws://{shown}:{port}/mtgox",
        f"  BitcoinAverage      {base}/indices/   (websockets under ws://{shown}:{port}/websocket/)",
        f"  API docs            {base}/docs",
        f"  control API         {base}/_emulator/",
        f"  dashboard           {base}/_emulator/ui",
    ]
    if settings.state:
        lines.append(f"  state file          {settings.state}")
    return "\n".join(lines)


class Stop:
    """SIGINT and SIGTERM for the whole of `serve`. Before the server runs, a signal is remembered and
    start-up ends quietly at the next step; once there is a server, it is asked to shut down gracefully
    (uvicorn's own handlers, in place while it serves, do the same and hand the signal back here)."""

    def __init__(self) -> None:
        self.requested = False
        self.server: EmulatorServer | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        if self.server is not None:
            self.server.should_exit = True

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self)


def _setting(settings_field: str, given: object) -> str:
    """How the user set a field: the flag when given on the command line, else the variable."""
    return f"--{settings_field}" if given is not None else f"EMULATOR_{settings_field.upper()}"


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that a bad host or a busy port is one clear line."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise UsageError(
            f"host {host!r} (--host or EMULATOR_HOST) is not an address or a name this machine knows ({exc.strerror}): "
            "give one of its addresses, e.g. 127.0.0.1, or 0.0.0.0 for all"
        ) from None
    except (UnicodeError, OverflowError) as exc:
        raise UsageError(f"host {host!r} (--host or EMULATOR_HOST) is not an address: {exc}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            fix = "stop what listens there or choose another --port (0 picks a free one)"
            raise UsageError(f"port {port} on {host} (--port or EMULATOR_PORT) is in use: {fix}") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise UsageError(
                f"host {host!r} (--host or EMULATOR_HOST) is not an address of this machine: "
                "give one of its addresses, e.g. 127.0.0.1, or 0.0.0.0 for all"
            ) from None
        if exc.errno == errno.EACCES:
            raise UsageError(
                f"port {port} (--port or EMULATOR_PORT) needs privileges: choose one above 1023, e.g. 8000"
            ) from None
        raise UsageError(f"cannot listen on {host}:{port} (--host, --port): {exc.strerror}") from None
    return sock


def serve(args: argparse.Namespace, stop: Stop) -> int:
    # Start-up makes a few hundred thousand objects that live as long as the server (modules, routes,
    # the world); the cyclic collector would walk them again and again while they are made. It runs
    # again once the server is up, with those objects frozen out of its way.
    gc.disable()
    try:
        return _serve(args, stop)
    finally:
        gc.enable()


def _serve(args: argparse.Namespace, stop: Stop) -> int:
    # The checks a mistake fails come before the app's imports, so that a mistake is told at once.
    from pydantic import ValidationError

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
        return 2
    if settings.scenario:
        from emulator.market.scenario import ScenarioError, load  # only with a scenario: start-up time

        try:
            load(settings.scenario, [settings.scenarios_dir] if settings.scenarios_dir else [])
        except ScenarioError as exc:
            problems = "; ".join(str(exc).splitlines())
            print(f"serve: {_setting('scenario', args.scenario)} {settings.scenario}: {problems}", file=sys.stderr)
            return 2
    try:
        sock = bind(settings.host, settings.port)
    except UsageError as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return 2
    warning = exposure_warning(settings)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    try:
        return _run(args, settings, sock, stop)
    finally:
        sock.close()


def _run(args: argparse.Namespace, settings: "Settings", sock: socket.socket, stop: Stop) -> int:
    if stop.requested:
        return 0
    from emulator.app import create_app
    from emulator.market.tape import TapeError
    from emulator.server import EmulatorServer
    from emulator.statefile import StateFileError

    try:
        app = create_app(settings)
    except StateFileError as exc:
        print(f"serve: {_setting('state', args.state)} {settings.state}: {exc}", file=sys.stderr)
        return 2
    except TapeError as exc:  # FILE:LINE: what is wrong
        print(exc, file=sys.stderr)
        return 2
    if stop.requested:
        return 0
    server = EmulatorServer(app, settings.host, settings.port, args.log_level)

    def announce(started: EmulatorServer) -> None:
        seed = app.state.registry.get("default").seed  # the scenario's unless --seed was given
        print(banner(settings, started.port, seed), flush=True)

    server.on_started.append(announce)
    server.on_started.append(_collect_again)
    stop.server = server
    if stop.requested:  # between the last check and the line above
        return 0
    server.run(sockets=[sock])
    return 0


def exposure_warning(settings: "Settings") -> str | None:
    """One line when the control API is open to the network: anyone who reaches the port could
    reset worlds, restore balances or add fault rules."""
    from emulator.edge.guards import is_loopback

    if settings.admin and not settings.admin_token and not is_loopback(settings.host):
        return (
            f"warning: serving on {settings.host} with the control API open to anyone who can reach it; "
            "set EMULATOR_ADMIN_TOKEN (or EMULATOR_ADMIN=false) on a shared machine"
        )
    return None


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
    except ScenarioError as exc:
        print(f"replay: {'; '.join(str(exc).splitlines())}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"replay: --until {args.until} / --start {args.start}: {exc}", file=sys.stderr)
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
        try:
            out = open(args.out, "w", encoding="utf-8")  # noqa: SIM115 (closed below; opened first to fail early)
        except OSError as exc:
            folder = Path(args.out).parent
            why = f"no folder {folder}" if not folder.is_dir() else exc.strerror
            print(f"replay: --out {args.out}: {why}: create it or write elsewhere", file=sys.stderr)
            return 2
        with out:
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


def parser() -> Parser:
    main_parser = Parser(prog="btc-market-emulator", description=__doc__.splitlines()[0])
    main_parser.add_argument("--version", action="version", version=f"btc-market-emulator {__version__}")
    commands = main_parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    _serve_parser(commands)
    replay_parser = commands.add_parser("replay", help="run a scenario headless and write its messages as JSON lines")
    replay_parser.add_argument("scenario", nargs="?", help="scenario name or file (optional with --tape)")
    replay_parser.add_argument(
        "--tape", help="a trade tape to play (bitcoincharts CSV); the clock starts at its first trade"
    )
    replay_parser.add_argument("--tape-skip-bad", action="store_true", help="skip and count the tape's malformed lines")
    replay_parser.add_argument("--start", help="market start, ISO 8601 or unix seconds (a tape is entered there)")
    replay_parser.add_argument("--seed", type=int, help=f"world seed (default: the scenario's, else {DEFAULT_SEED})")
    replay_parser.add_argument("--until", default="1h", help="market time to run: seconds or 30s, 10m, 1h (default 1h)")
    replay_parser.add_argument("--out", default="-", help="output file (default: standard output)")
    check = commands.add_parser("validate-scenario", help="check scenario files; errors name file, line and field")
    check.add_argument("files", nargs="+")
    return main_parser


def main(argv: Sequence[str] | None = None) -> int:
    stop = Stop()
    try:
        args = parser().parse_args(argv)
        if args.command == "serve":
            stop.install()
            return serve(args, stop)
        if args.command == "replay":
            return replay(args)
        return validate_scenario(args)
    except KeyboardInterrupt:  # Ctrl-C before serve's own handler, or in replay: no traceback
        return 0 if stop.requested or args_command(argv) == "serve" else 130


def args_command(argv: Sequence[str] | None) -> str | None:
    words = list(sys.argv[1:] if argv is None else argv)
    return next((w for w in words if not w.startswith("-")), None)


if __name__ == "__main__":
    sys.exit(main())
