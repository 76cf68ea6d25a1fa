"""A throwaway CA and a signing certificate it issued, as a team's C2PA set-up would hold."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_USAGE = dict(
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    encipher_only=False,
    decipher_only=False,
)


@dataclass(frozen=True)
class Certificates:
    chain: Path  # the signing certificate, then the CA: ATELIER_C2PA_CERT
    key: Path  # ATELIER_C2PA_KEY
    anchor: Path  # the CA alone: a trust list for ATELIER_C2PA_TRUST


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Atelier tests"),
        ]
    )


def _certificate(
    subject: str, issuer: x509.Name | None, key: ec.EllipticCurvePrivateKey, signer: Any
) -> x509.Certificate:
    """A CA (no issuer: it signs itself) or a signing certificate the CA's key issues."""
    ca = issuer is None
    now = datetime.datetime.now(datetime.UTC)
    built = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer or _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=ca, crl_sign=ca, **_USAGE),
            critical=True,
        )
    )
    if ca:
        built = built.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False
        )
    else:
        built = built.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), False
        )
    return built.sign(signer, hashes.SHA256())


def make_certificates(folder: Path) -> Certificates:
    """A CA, and a P-256 signing certificate it issued (email protection, as C2PA asks)."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Atelier test CA", None, ca_key, ca_key)
    signing = _certificate("Atelier test signer", ca.subject, key, ca_key)
    folder.mkdir(parents=True, exist_ok=True)
    made = Certificates(folder / "chain.pem", folder / "key.pem", folder / "ca.pem")
    pem = serialization.Encoding.PEM
    made.chain.write_bytes(signing.public_bytes(pem) + ca.public_bytes(pem))
    made.anchor.write_bytes(ca.public_bytes(pem))
    made.key.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return made
