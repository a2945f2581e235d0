"""A throwaway certificate authority and a server certificate for 127.0.0.1 and localhost.

Files in the state folder: ``ca.pem`` (what clients trust), ``ca-key.pem``, ``server.pem`` and
``server-key.pem`` (keys 0600). Existing files are reused while they are valid; a server certificate
that no longer fits is re-issued by the existing CA, an unusable CA is replaced together with it.
"""
from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import os
import pathlib
import threading

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
SERVER_FILE = "server.pem"
SERVER_KEY_FILE = "server-key.pem"

SERVER_DNS_NAMES = ("localhost",)
SERVER_IP_ADDRESSES = ("127.0.0.1",)
CA_LIFETIME = datetime.timedelta(days=3650)
SERVER_LIFETIME = datetime.timedelta(days=397)
# A certificate that expires within this margin is replaced rather than reused.
RENEW_MARGIN = datetime.timedelta(days=2)


@dataclasses.dataclass(frozen=True)
class TlsFiles:
    ca_cert: pathlib.Path
    ca_key: pathlib.Path
    server_cert: pathlib.Path
    server_key: pathlib.Path


def ensure_certificates(state_dir: pathlib.Path | str) -> TlsFiles:
    """Create (or reuse) the CA and the server certificate in state_dir; return their paths."""
    state = pathlib.Path(state_dir)
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    files = TlsFiles(state / CA_FILE, state / CA_KEY_FILE, state / SERVER_FILE, state / SERVER_KEY_FILE)
    ca = _load_pair(files.ca_cert, files.ca_key)
    if ca is None or not _ca_is_usable(*ca):
        ca = _new_ca()
        _write_pair(files.ca_cert, files.ca_key, *ca)
        server = None
    else:
        server = _load_pair(files.server_cert, files.server_key)
    if server is None or not _server_is_usable(server[0], server[1], ca[0]):
        server = _new_server_certificate(*ca)
        _write_pair(files.server_cert, files.server_key, *server)
    return files


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _load_pair(cert_path: pathlib.Path, key_path: pathlib.Path):
    """(certificate, private key) read from PEM files, or None when missing or unreadable."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    return cert, key


def _key_matches(cert: x509.Certificate, key) -> bool:
    public_format = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return cert.public_key().public_bytes(*public_format) == key.public_key().public_bytes(*public_format)


def _in_validity(cert: x509.Certificate) -> bool:
    now = _now()
    return cert.not_valid_before_utc <= now and cert.not_valid_after_utc - RENEW_MARGIN > now


def _ca_is_usable(cert: x509.Certificate, key) -> bool:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    return constraints.ca and _in_validity(cert) and _key_matches(cert, key)


def _server_is_usable(cert: x509.Certificate, key, ca_cert: x509.Certificate) -> bool:
    if not (_in_validity(cert) and _key_matches(cert, key)) or cert.issuer != ca_cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca_cert)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (InvalidSignature, ValueError, TypeError, x509.ExtensionNotFound):
        return False
    dns_names = set(names.get_values_for_type(x509.DNSName))
    ip_addresses = {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    return set(SERVER_DNS_NAMES) <= dns_names and set(SERVER_IP_ADDRESSES) <= ip_addresses


def _new_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "smarttrace.sso sandbox"),
        x509.NameAttribute(NameOID.COMMON_NAME, "smarttrace.sso sandbox CA (throwaway)"),
    ])
    now = _now()
    public_key = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _new_server_certificate(ca_cert: x509.Certificate, ca_key):
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    names = [x509.DNSName(name) for name in SERVER_DNS_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVER_IP_ADDRESSES]
    ca_key_id = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_IP_ADDRESSES[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(min(now + SERVER_LIFETIME, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def _write_pair(cert_path: pathlib.Path, key_path: pathlib.Path, cert: x509.Certificate, key) -> None:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_private_file(key_path, key_pem)
    write_atomic(cert_path, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)


def write_private_file(path: pathlib.Path, data: bytes) -> None:
    """Write data to path atomically with mode 0600."""
    write_atomic(path, data, mode=0o600)


def write_atomic(path: pathlib.Path, data: bytes, mode: int) -> None:
    """Write data to a temporary file beside path (created with mode) and rename it over path."""
    path = pathlib.Path(path)
    temporary = path.with_name(".%s.%d.%d.tmp" % (path.name, os.getpid(), threading.get_ident()))
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
