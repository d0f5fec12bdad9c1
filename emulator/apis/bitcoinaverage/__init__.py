"""BitcoinAverage API v2: REST routes, signature and plans, websockets."""
