"""The registry of per-API state kept beside a world (sessions, nonces, fault rules, ...).

An API declares its model here (`register_model`); a world makes it on first use, saves it with
its snapshot and makes it again on a restore. The registry sits below the world so that those who
register (the APIs, the fault rules) never import the world to do it.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from emulator.market.world import World


class Model(Protocol):
    """State an API keeps beside the world (sessions, nonces, ...), saved with it."""

    def snapshot(self) -> dict[str, Any]:
        """The model's state; an empty dict when it holds nothing (then it is left out)."""
        ...

    def restore(self, state: dict[str, Any]) -> None: ...


MODELS: dict[str, Callable[["World"], Model]] = {}


def register_model(name: str, factory: Callable[["World"], Model]) -> None:
    """Declare an API's model (made on first use, saved with the world, made again by a restore)."""
    MODELS[name] = factory
