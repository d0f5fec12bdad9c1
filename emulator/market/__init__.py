"""The simulated market: the world that owns all state, its clock, its event bus and its order flow."""
