"""The emulated APIs, one folder each: models hold state, rendering turns it into the API's JSON."""
