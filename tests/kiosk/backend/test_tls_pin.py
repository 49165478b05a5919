"""A pinned backend certificate: the one pinned is accepted, any other refused (issue 15)."""
from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import ipaddress
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiosk.backend.client import BackendClient
from kiosk.backend.errors import BackendUnavailable
from kiosk.backend.signing import generate_key, parse_key


def self_signed(folder):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "backend.test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path, hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


@pytest.fixture
def https_server(tmp_path):
    cert, key, fingerprint = self_signed(tmp_path)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(418)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert, fingerprint
    server.shutdown()


def client(url, cert, pin=""):
    return BackendClient(url, "HK-1", parse_key(generate_key()), ca_bundle=str(cert), tls_pin_sha256=pin,
                         retries=0)


def test_the_pinned_certificate_is_accepted(https_server):
    url, cert, fingerprint = https_server
    pin = ":".join(fingerprint[i:i + 2] for i in range(0, 64, 2)).upper()  # as openssl prints it
    with pytest.raises(BackendUnavailable) as caught:
        client(url, cert, pin).catalog_item("370503-GA-0001")
    assert caught.value.status == 418  # the server answered: TLS got through


def test_another_certificate_is_refused_even_from_a_trusted_ca(https_server):
    url, cert, _fingerprint = https_server
    with pytest.raises(BackendUnavailable) as caught:
        client(url, cert, "ab" * 32).catalog_item("370503-GA-0001")
    assert caught.value.code == "tls" and caught.value.status is None


def test_a_pin_needs_https():
    with pytest.raises(ValueError, match="https"):
        BackendClient("http://127.0.0.1:9", "HK-1", parse_key(generate_key()), tls_pin_sha256="ab" * 32)
