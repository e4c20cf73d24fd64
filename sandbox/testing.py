"""Run the sandbox for tests: a real HTTP server on a free loopback port, and its control panel."""

import contextlib
import logging
import threading

import requests
from werkzeug.serving import make_server

from sandbox.app import API, create_app


class SandboxControl:
    """Talks to a running sandbox's /_sandbox/ controls over HTTP."""

    def __init__(self, root_url, api_key="sandbox"):
        self.root_url = root_url.rstrip("/")
        self.base_url = self.root_url + API
        self.api_key = api_key

    def _control(self, method, name, **kwargs):
        response = requests.request(method, f"{self.root_url}/_sandbox/{name}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def set_faults(self, rules):
        return self._control("POST", "faults", json={"rules": rules})["rules"]

    def clear_faults(self):
        self._control("DELETE", "faults")

    def calls(self, route=None):
        return self._control("GET", "calls", params={"route": route} if route else None)["calls"]

    def reset(self):
        """Forget every file, voice, call, fault and remembered utterance."""
        self._control("POST", "reset")

    def voices(self):
        return self._control("GET", "voices")["voices"]


@contextlib.contextmanager
def running_sandbox(data_dir, **app_options):
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in test output
    app = create_app(data_dir, **app_options)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SandboxControl(f"http://127.0.0.1:{server.server_port}", app.api_key)
    finally:
        server.shutdown()
        thread.join(timeout=5)
