"""Fault injection, in one place: the rules (rules.py, world state), what they do to HTTP requests
(http.py) and to websocket frames (websocket.py), and their control routes (routes.py)."""
