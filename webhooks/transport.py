"""The one module that sends webhook requests, and the guard that keeps them off our own network.

A webhook URL is typed by a user, so it could point at the metadata service, the database or a
port on this machine (server-side request forgery). Every hop is checked after DNS resolution, and
the connection is made to the very address that was checked, never to a second lookup of the name
(a DNS answer that changes between the check and the connection cannot slip through). Redirects are
followed by hand so that each one is checked the same way. Imports nothing from the project.
"""

import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3

MAX_REDIRECTS = 3
# Enough of a receiver's answer for the delivery log; the rest is never read.
MAX_BODY_BYTES = 2048


class DeliveryFailed(Exception):
    """The request could not be made or was refused; `status` is the answer's HTTP status if there was one."""

    def __init__(self, message, status=None, body=""):
        super().__init__(message)
        self.status, self.body = status, body


class AddressNotAllowed(DeliveryFailed):
    pass


@dataclass
class Response:
    status: int
    body: str
    url: str


def check_url(url):
    """Raise AddressNotAllowed for a URL that is not http(s) with a host; the cheap check forms can run."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressNotAllowed("Only http and https URLs with a host name can receive webhooks")
    if parts.username or parts.password:
        raise AddressNotAllowed("Webhook URLs cannot carry a user name or password")
    return parts


def resolve_public(host, port, allowed_networks=()):
    """Return the first address `host` resolves to, if every address it resolves to is public.

    `allowed_networks` (ip_network objects) lets an operator, or the tests, reach private ones.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DeliveryFailed(f"The host name {host} could not be resolved") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    for address in addresses:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if any(address in network for network in allowed_networks):
            continue
        if not address.is_global or address.is_multicast:
            # Private, loopback, link-local (cloud metadata), reserved, shared (CGNAT) and unspecified.
            raise AddressNotAllowed(f"{host} resolves to {address}, which is not a public address")
    return str(addresses[0])


def post(url, body, headers, *, timeout, allowed_networks=()):
    """POST `body` to `url`, following redirects with the same checks; return the final Response."""
    method = "POST"
    for _hop in range(MAX_REDIRECTS + 1):
        parts = check_url(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = resolve_public(parts.hostname, port, allowed_networks)
        response = _send(parts, address, port, method, body if method == "POST" else None, headers, timeout)
        location = response.headers.get("Location")
        if response.status in (301, 302, 303, 307, 308) and location:
            url = urljoin(url, location)
            if response.status in (301, 302, 303):
                method = "GET"  # as browsers and requests do; 307 and 308 repeat the POST
            continue
        return Response(response.status, _excerpt(response), url)
    raise DeliveryFailed(f"More than {MAX_REDIRECTS} redirects")


def _send(parts, address, port, method, body, headers, timeout):
    if parts.scheme == "https":
        # Connect to the checked address, but verify the certificate for, and send SNI of, the host name.
        pool = urllib3.HTTPSConnectionPool(
            address,
            port,
            server_hostname=parts.hostname,
            assert_hostname=parts.hostname,
            cert_reqs=ssl.CERT_REQUIRED,
            ca_certs=certifi.where(),
            timeout=timeout,
            retries=False,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    try:
        with pool:
            response = pool.urlopen(
                method,
                path,
                body=body,
                headers={**headers, "Host": host},
                redirect=False,
                preload_content=False,
                assert_same_host=False,
            )
            response.excerpt = response.read(MAX_BODY_BYTES, decode_content=False)
            response.release_conn()
            return response
    except urllib3.exceptions.HTTPError as exc:
        raise DeliveryFailed(f"The request failed: {type(exc).__name__}") from exc


def _excerpt(response):
    return response.excerpt.decode("utf-8", "replace")
