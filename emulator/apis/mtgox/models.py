"""State the MtGox API keeps beside the world: login sessions, and the mapping of engine order ids
to the UUIDs MtGox clients see (derived from the world's seed, so they repeat run to run).

Session tokens are the one thing here that is not derived from the seed: they come from `secrets`
(a token anyone could compute from the public seed would be a password anyone could compute), and
each is bound to the tenant whose world issued it. Snapshots keep them, so a restore into the same
tenant restores its sessions.
"""

import hashlib
import secrets
import uuid
from collections.abc import Callable, Hashable
from functools import lru_cache
from typing import Any

from emulator.market.memo import Memo
from emulator.market.models import register_model
from emulator.market.world import World

MAX_SESSIONS = 10_000


@lru_cache(maxsize=65536)
def order_uuid(seed: int, oid: int) -> str:
    digest = hashlib.sha256(f"mtgox-order:{seed}:{oid}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


class MtGoxModel:
    def __init__(self, world: World) -> None:
        self.world = world
        self.sessions: dict[str, tuple[str, str]] = {}  # token -> (user name, tenant that issued it)
        self.logins = 0
        self._rendered: Memo[bytes] = Memo()

    def rendered(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        """A public answer's bytes, rendered once per state of the world and market second."""
        return self._rendered.get(self.world.state_key(), key, render)

    def login(self, user: str) -> str:
        """A new session token for the user, unguessable and good in this tenant only."""
        self.logins += 1
        token = secrets.token_hex(32)
        if len(self.sessions) >= MAX_SESSIONS:
            del self.sessions[next(iter(self.sessions))]  # the oldest goes
        self.sessions[token] = (user, self.world.tenant)
        return token

    def session_user(self, token: str | None) -> str | None:
        found = self.sessions.get(token) if token else None
        if found is None or found[1] != self.world.tenant:
            return None
        return found[0]

    def oid_of(self, oid: int) -> str:
        return order_uuid(self.world.seed, oid)

    def find_order(self, user: str, text: str) -> int | None:
        """The engine oid of one of the user's open orders, by the UUID the client holds."""
        for order in self.world.engine.open_orders(user):
            if self.oid_of(order.oid) == text:
                return order.oid
        return None

    def snapshot(self) -> dict[str, Any]:
        if not self.sessions and not self.logins:
            return {}
        return {"sessions": {token: list(held) for token, held in self.sessions.items()}, "logins": self.logins}

    def restore(self, state: dict[str, Any]) -> None:
        self.sessions = {token: (str(user), str(tenant)) for token, (user, tenant) in state.get("sessions", {}).items()}
        self.logins = state.get("logins", 0)


def get_model(world: World) -> MtGoxModel:
    model = world.model("mtgox")
    assert isinstance(model, MtGoxModel)
    return model


register_model("mtgox", MtGoxModel)
