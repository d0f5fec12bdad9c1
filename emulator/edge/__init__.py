"""The edge of the app: what every request goes through before and after its route (tenancy, the
journal, fault gating, the error boundary, the browser guards) and the fast lane that serves the
polled reads through the same pipeline (see emulator.edge.pipeline)."""
