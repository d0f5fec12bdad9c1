"""Websocket fault effects: what the world's `ws_*` rules do to the frames a channel publishes.

An API hands its `Channels` a `FrameFaults` (see `emulator.streaming`), which asks the world's fault
book about each frame published on a channel that has subscribers (the frame is still serialised
once) and applies the effect to every subscriber of that frame: `ws_drop` closes them (code `status`
or 1011, reason `body`), `ws_gap` drops the frame, `ws_duplicate` sends it twice, `ws_delay` sends it
`latency_ms` later, `ws_reorder` holds it until the next frame on the channel (sent first) or at
most `latency_ms`. A rule that breaks while being applied is logged and the frame sent as it is.
"""

import asyncio
import logging
from collections.abc import Callable, Iterable

from emulator.faults.rules import FaultBook, FaultRule
from emulator.market.world import World
from emulator.streaming import Client, send_all

DROPPED = (1011, "fault injected: connection dropped")
log = logging.getLogger(__name__)

FaultFilter = Callable[[str], FaultRule | None]  # the rule that hits a frame on a channel, or None


def ws_filter(
    world: World, api: str, aliases: Callable[[str], Iterable[str]] | None = None, path: str | None = None
) -> FaultFilter:
    """Asks the world's fault book about each frame published on a channel (or one of its
    `aliases`) of a socket at `path`, at the world's market time."""

    def check(channel: str) -> FaultRule | None:
        book = world.models.get("faults")
        if not isinstance(book, FaultBook) or not book.has_ws:
            return None
        names = aliases(channel) if aliases is not None else ()
        return book.match_ws(api, channel, world.now, aliases=names, path=path)

    return check


class FrameFaults:
    """The `Channels.faults` of one feed: each frame goes through its rule's effect."""

    def __init__(self, rule_for: FaultFilter) -> None:
        self.rule_for = rule_for
        self._held: dict[str, tuple[str, list[Client]]] = {}

    def deliver(self, channel: str, text: str, members: list[Client]) -> None:
        try:
            fault = self.rule_for(channel)
        except Exception:  # a broken rule must not stop the market's fan-out
            log.exception("websocket fault filter failed")
            fault = None
        held = self._held.pop(channel, None)
        effect = fault.effect if fault is not None else None
        if fault is None or (effect == "ws_reorder" and held is not None):
            send_all(text, members)
        elif effect == "ws_reorder":
            entry = self._held[channel] = (text, members)
            _later(fault.latency_ms, lambda: self._release(channel, entry))
        elif effect == "ws_drop":
            code = fault.status or DROPPED[0]
            reason = fault.body if isinstance(fault.body, str) else DROPPED[1]
            for client in members:
                client.close(code, reason)
        elif effect == "ws_duplicate":
            send_all(text, members)
            send_all(text, members)
        elif effect == "ws_delay":
            _later(fault.latency_ms, lambda: send_all(text, members))
        elif effect != "ws_gap":
            send_all(text, members)
        if held is not None:
            send_all(*held)

    def _release(self, channel: str, entry: tuple[str, list[Client]]) -> None:
        if self._held.get(channel) is entry:
            del self._held[channel]
            send_all(*entry)


def _later(milliseconds: int, action: Callable[[], None]) -> None:
    """Run `action` after `milliseconds` of real time on the running loop (at once without one)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        action()
        return
    loop.call_later(milliseconds / 1000, action)
