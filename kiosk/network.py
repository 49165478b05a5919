"""Is the acceptance system reachable? A cheap TCP probe for the top bar's network light.

The probe opens (and closes) a TCP connection to the backend URL's host and port. It runs
on a worker thread; its result is published on the ``StatusBoard`` as ``network``.
"""
from __future__ import annotations

import socket
from urllib.parse import urlsplit

from kiosk.status import Availability


def probe_backend(url: str, timeout: float = 2.0) -> Availability:
    if not url:
        return Availability("network", None, "status.network_not_configured")
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return Availability("network", False, "status.network_bad_url")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return Availability("network", True)
    except OSError:
        return Availability("network", False, "status.network_unreachable")
