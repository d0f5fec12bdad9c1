"""The names of the emulated APIs, defined here once: what the control API, the fault rules, the
journal's filter and the scenario schema accept as an `api`, and what each API's surface registers
under (emulator.surfaces checks both ways).

A leaf module (it imports nothing of the package) so that validation anywhere can read it: the
surfaces registry itself cannot be imported from `market/` or from pydantic models the registry's
own importers use.
"""

from typing import Literal, get_args

ApiName = Literal["mtgox", "bitcoinaverage"]  # in the order the APIs are documented and listed
API_NAMES: tuple[ApiName, ...] = get_args(ApiName)
API_PATTERN = f"^({'|'.join(API_NAMES)})$"  # one of the names, for a plain string query parameter
