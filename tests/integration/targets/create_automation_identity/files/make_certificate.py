"""Write a throwaway self-signed certificate for the automation identity test.

make_certificate.py DIR writes DIR/automation.crt (the certificate: what the playbook registers) and
DIR/automation-key-and-cert.pem (key and certificate, 0600: what client_certificate_path takes).
"""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def main(folder):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "st-sso-it-automation")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=2)).sign(key, hashes.SHA256()))
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    with open(os.path.join(folder, "automation.crt"), "wb") as handle:
        handle.write(pem)
    fd = os.open(os.path.join(folder, "automation-key-and-cert.pem"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()) + pem)


if __name__ == "__main__":
    main(sys.argv[1])
