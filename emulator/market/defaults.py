"""Where a world starts when nothing says otherwise. No imports: the CLI's `--help` and the pytest
plugin read these before anything heavy is loaded."""

DEFAULT_SEED = 1  # when neither `--seed` nor the scenario gives one
# The fixed instant replays and the pytest plugin start at (a server's world starts at the wall
# clock, or at the tape's first trade, unless told): a fixed start repeats its bytes.
DEFAULT_START = "2011-07-10T00:00:00Z"
