"""btc-market-emulator: MtGox (2011) and BitcoinAverage v2 APIs over one simulated market."""

__version__ = "0.1.0"
