"""MtGox (2011): the legacy HTTP API and the websocket API."""
