"""Balances and holds per user and currency.

Available funds are `balance - held`. Every movement is recorded as a BalanceChange so that
wallet history, websockets and the conservation checks all read the same facts.
"""

from collections import defaultdict

from emulator.engine.events import BalanceChange

DEFAULT_FEE_PPM = 6500  # 0.65%
FEE_ACCOUNT = "_fees"


class InsufficientFunds(Exception):
    pass


class Account:
    __slots__ = ("balance", "fee_ppm", "held", "name")

    def __init__(self, name: str, fee_ppm: int = DEFAULT_FEE_PPM) -> None:
        self.name = name
        self.fee_ppm = fee_ppm
        self.balance: defaultdict[str, int] = defaultdict(int)
        self.held: defaultdict[str, int] = defaultdict(int)

    def available(self, currency: str) -> int:
        return self.balance[currency] - self.held[currency]


class Ledger:
    def __init__(self, events: list[object] | None = None) -> None:
        self.accounts: dict[str, Account] = {}
        self.events: list[object] = events if events is not None else []
        self.open(FEE_ACCOUNT, fee_ppm=0)

    def open(self, name: str, fee_ppm: int = DEFAULT_FEE_PPM) -> Account:
        account = self.accounts.get(name)
        if account is None:
            account = self.accounts[name] = Account(name, fee_ppm)
        return account

    def account(self, name: str) -> Account:
        return self.accounts[name]

    @property
    def fees(self) -> Account:
        return self.accounts[FEE_ACCOUNT]

    def move(self, account: Account, currency: str, delta: int, kind: str, now: int) -> None:
        """Apply one wallet movement. The engine guarantees the result is never negative."""
        balance = account.balance[currency] + delta
        account.balance[currency] = balance
        self.events.append(BalanceChange(account.name, currency, delta, balance, kind, now))

    def deposit(self, name: str, currency: str, amount: int, now: int) -> None:
        if amount <= 0:
            raise ValueError("deposit must be positive")
        self.move(self.open(name), currency, amount, "deposit", now)

    def withdraw(self, name: str, currency: str, amount: int, now: int) -> None:
        account = self.accounts.get(name)
        if amount <= 0:
            raise ValueError("withdrawal must be positive")
        if account is None or account.available(currency) < amount:
            raise InsufficientFunds(currency)
        self.move(account, currency, -amount, "withdraw", now)

    def totals(self) -> dict[str, int]:
        """Sum of every balance per currency, the fee account included."""
        totals: dict[str, int] = defaultdict(int)
        for account in self.accounts.values():
            for currency, amount in account.balance.items():
                totals[currency] += amount
        return dict(totals)
