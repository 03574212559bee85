"""Mutual TLS: `paygod serve --tls-cert --tls-key --client-ca`; a client certificate's
subject maps to a principal. The CA and certificates are generated here with `cryptography`."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from paygod.bootstrap import build_kernel
from paygod.identity.model import PrincipalKind, Role
from paygod.kernel.settings import load_settings
from tests.e2e.conftest import free_port


def _name(common_name: str, org: str = "acme") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _cert(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    signer: ec.EllipticCurvePrivateKey,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(signer, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    path.with_suffix(".crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_client_certificate_maps_to_a_principal(
    paygod_home: Path, tmp_path: Path, workers: int
) -> None:
    pki = tmp_path / "pki"
    pki.mkdir()
    ca_key, rogue_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = _cert(_name("Paygod Test CA"), _name("Paygod Test CA"), ca_key, ca_key, ca=True)
    _write(pki / "ca", ca, ca_key)
    server_key = ec.generate_private_key(ec.SECP256R1())
    _write(pki / "server", _cert(_name("localhost"), ca.subject, server_key, ca_key, server=True),
           server_key)  # fmt: skip
    agent_key = ec.generate_private_key(ec.SECP256R1())
    agent_cert = _cert(_name("agent-7"), ca.subject, agent_key, ca_key)
    _write(pki / "agent", agent_cert, agent_key)
    rogue_ca = _name("Rogue CA")
    _write(pki / "rogue", _cert(_name("agent-7"), rogue_ca, rogue_key, rogue_key), rogue_key)

    paygod_home.mkdir(parents=True, exist_ok=True)
    kernel = build_kernel(load_settings(home=paygod_home))
    try:
        subject = agent_cert.subject.rfc4514_string()
        kernel.identity.create_principal(
            "acme", "agent-7", PrincipalKind.AGENT, {Role.AGENT}, external_id=f"cert:{subject}"
        )
    finally:
        kernel.close()

    port = free_port()
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "paygod", "serve", "--port", str(port), "--workers", str(workers),
            "--tls-cert", str(pki / "server.crt"), "--tls-key", str(pki / "server.key"),
            "--client-ca", str(pki / "ca.crt"),
        ],
        env={"PAYGOD_HOME": str(paygod_home), "PAYGOD_LOG_LEVEL": "warning",
             "PATH": "/usr/bin:/bin"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"https://127.0.0.1:{port}"
    verify = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    try:
        deadline = time.monotonic() + 90  # two workers starting on a loaded machine
        while True:
            try:
                if httpx.get(url + "/healthz", verify=verify, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail((tmp_path / "server.log").read_text())
                time.sleep(0.1)

        with_cert = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        with_cert.load_cert_chain(str(pki / "agent.crt"), str(pki / "agent.key"))
        me = httpx.get(url + "/v1/identity/me", verify=with_cert, timeout=5)
        assert me.status_code == 200, me.text
        assert me.json()["name"] == "agent-7" and me.json()["authenticated_by"] == "mtls"
        assert httpx.get(url + "/v1/identity/principals", verify=with_cert).status_code == 403

        assert httpx.get(url + "/v1/identity/me", verify=verify).status_code == 401

        rogue = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        rogue.load_cert_chain(str(pki / "rogue.crt"), str(pki / "rogue.key"))
        with pytest.raises(httpx.HTTPError):  # refused in the handshake
            httpx.get(url + "/v1/identity/me", verify=rogue, timeout=5)
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
