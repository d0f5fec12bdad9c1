"""Balances and holds per user and currency.

Available funds are `balance - held`. Every movement is recorded (deposits and withdrawals by the
engine as MOVE records, trades in its FILL records) so that wallet history, websockets and the
conservation checks all read the same facts.
"""

from collections import defaultdict

from emulator.engine.orders import Account
from emulator.engine.units import DEFAULT_FEE_PPM

FEE_ACCOUNT = "_fees"  # the account every fee is paid into


class InsufficientFunds(Exception):
    pass


class Ledger:
    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
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

    def deposit(self, name: str, currency: str, amount: int) -> int:
        """Credit `amount` (> 0); returns the new balance."""
        if amount <= 0:
            raise ValueError("deposit must be positive")
        balance = self.open(name).balance
        balance[currency] += amount
        return balance[currency]

    def withdraw(self, name: str, currency: str, amount: int) -> int:
        """Debit `amount` (> 0) of free funds; returns the new balance."""
        account = self.accounts.get(name)
        if amount <= 0:
            raise ValueError("withdrawal must be positive")
        if account is None or account.available(currency) < amount:
            raise InsufficientFunds(currency)
        account.balance[currency] -= amount
        return account.balance[currency]

    def totals(self) -> dict[str, int]:
        """Sum of every balance per currency, the fee account included."""
        totals: dict[str, int] = defaultdict(int)
        for account in self.accounts.values():
            for currency, amount in account.balance.items():
                totals[currency] += amount
        return dict(totals)
