"""The people of a world: users with passwords and API keys for both emulated services.

Users are case-insensitive by name (MtGox's rule). Every user has a stable channel UUID for the
MtGox websocket and the deposit addresses handed to them.
"""

import base64
import json
import random
import secrets as _secrets
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from emulator.paths import data_dir

# BitcoinAverage's plans, lowest first, as its permission matrix names them (plans.json, the one table)
PLANS: tuple[str, ...] = tuple(
    json.loads((data_dir("fixtures") / "bitcoinaverage" / "plans.json").read_text(encoding="utf-8"))["plans"]
)
KEY_PLANS = PLANS[1:]  # those a key can have (the first, anonymous, is having none)


@dataclass
class User:
    name: str
    password: str
    channel: str
    fee_ppm: int
    addresses: list[str] = field(default_factory=list)


@dataclass
class MtGoxKey:
    key: str
    secret: str  # base64, as MtGox handed it out
    user: str
    last_nonce: int = 0


@dataclass
class AverageKey:
    public_key: str
    secret_key: str
    plan: str


class Directory:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.mtgox_keys: dict[str, MtGoxKey] = {}
        self.average_keys: dict[str, AverageKey] = {}
        self.mtgox_activations: dict[str, str] = {}  # activation key -> user, until activate.php uses it

    def user(self, name: str) -> User | None:
        return self.users.get(name.lower())

    def add_user(self, name: str, password: str, fee_ppm: int, rng: random.Random) -> User:
        if name.lower() in self.users:
            raise ValueError(f"user {name!r} exists")
        channel = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        user = self.users[name.lower()] = User(name, password, channel, fee_ppm)
        return user

    def add_mtgox_key(
        self, user: User, rng: random.Random, key: str | None = None, secret: str | None = None
    ) -> MtGoxKey:
        key = key or str(uuid.UUID(int=rng.getrandbits(128), version=4))
        secret = secret or base64.b64encode(rng.randbytes(64)).decode()
        record = self.mtgox_keys[key] = MtGoxKey(key, secret, user.name)
        return record

    def add_mtgox_activation(self, user: User) -> str:
        """A one-time activation key for MtGox's activate.php. Drawn from `secrets`, not the world's
        seed: whoever holds it gets a key that trades and withdraws for the user."""
        activation = str(uuid.UUID(bytes=_secrets.token_bytes(16), version=4))
        self.mtgox_activations[activation] = user.name
        return activation

    def activate_mtgox_key(self, activation: str) -> MtGoxKey | None:
        """Spend an activation key on a new API key (random, like the activation key), or None when
        the activation key is unknown or already spent."""
        name = self.mtgox_activations.pop(activation, None)
        if name is None:
            return None
        key = str(uuid.UUID(bytes=_secrets.token_bytes(16), version=4))
        record = self.mtgox_keys[key] = MtGoxKey(key, base64.b64encode(_secrets.token_bytes(64)).decode(), name)
        return record

    def add_average_key(
        self, plan: str, rng: random.Random, public_key: str | None = None, secret_key: str | None = None
    ) -> AverageKey:
        if plan not in KEY_PLANS:
            raise ValueError(f"unknown plan {plan!r}; one of {', '.join(KEY_PLANS)}")
        public_key = public_key or base64.urlsafe_b64encode(rng.randbytes(30)).decode().rstrip("=")
        secret_key = secret_key or base64.urlsafe_b64encode(rng.randbytes(42)).decode()
        record = self.average_keys[public_key] = AverageKey(public_key, secret_key, plan)
        return record

    def snapshot(self) -> dict[str, Any]:
        return {
            "users": [asdict(u) for u in self.users.values()],
            "mtgox_keys": [asdict(k) for k in self.mtgox_keys.values()],
            "average_keys": [asdict(k) for k in self.average_keys.values()],
            "mtgox_activations": self.mtgox_activations,
        }

    @classmethod
    def restore(cls, state: dict[str, Any]) -> "Directory":
        directory = cls()
        for u in state["users"]:
            directory.users[u["name"].lower()] = User(**u)
        for k in state["mtgox_keys"]:
            directory.mtgox_keys[k["key"]] = MtGoxKey(**k)
        for a in state["average_keys"]:
            directory.average_keys[a["public_key"]] = AverageKey(**a)
        directory.mtgox_activations = dict(state.get("mtgox_activations", {}))  # absent in older snapshots
        return directory


def load_demo_accounts() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((data_dir("fixtures") / "accounts.json").read_text())
    return data


def random_token(nbytes: int = 24) -> str:
    """An unpredictable URL-safe token (for tickets and sessions, which must not be guessable)."""
    return _secrets.token_urlsafe(nbytes)
