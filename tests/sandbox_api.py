"""A requests session on the sandbox's API, as the sandbox tests call it directly."""

import requests


def api_session(control):
    """A session carrying the sandbox's key; `session.base` is the API root."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {control.api_key}"
    session.base = control.base_url
    return session
