"""Shared by the tests that run the real `fhir-server` command in a subprocess."""
from __future__ import annotations

import socket
import sys
from pathlib import Path

FHIR_SERVER = Path(sys.executable).parent / "fhir-server"
START_TIMEOUT = 30
STOP_TIMEOUT = 30  # CONTRACT.md: serve stops cleanly within 30 s of SIGTERM


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
