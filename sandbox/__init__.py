"""A local stand-in for BigModel's voice API: same routes, validation, shapes, limits and error codes.

Run it with `python -m sandbox`; tests start it with `sandbox.testing.running_sandbox`. It never
imports the Django app, and the app reaches it only over HTTP, as it would the real service.
"""
