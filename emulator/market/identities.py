"""Generated identities: Bitcoin addresses, transaction hashes and people's names, all seeded."""

import hashlib
import random
from functools import cache
from typing import Any

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58check(payload: bytes) -> str:
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, digit = divmod(number, 58)
        text = BASE58[digit] + text
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + text


def is_valid_address(address: str) -> bool:
    """A P2PKH or P2SH address of the main network with a correct Base58Check checksum."""
    if not 26 <= len(address) <= 35 or any(c not in BASE58 for c in address):
        return False
    number = 0
    for char in address:
        number = number * 58 + BASE58.index(char)
    zeros = len(address) - len(address.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    data = b"\0" * zeros + body
    if len(data) != 25 or data[0] not in (0x00, 0x05):
        return False
    payload, checksum = data[:-4], data[-4:]
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] == checksum


def new_address(rng: random.Random) -> str:
    """A fresh pay-to-pubkey-hash address (starts with 1), as btcAddress.php hands out."""
    return base58check(b"\0" + rng.randbytes(20))


@cache
def _faker() -> Any:
    from faker import Faker  # imported on first use: it costs a tenth of a second at start-up

    return Faker("en_US")


def person_name(rng: random.Random) -> str:
    """A user name like `brittanyanderson`, reproducible from the world's RNG."""
    faker = _faker()
    faker.seed_instance(rng.getrandbits(64))
    name: str = faker.user_name()
    return name
