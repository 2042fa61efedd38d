"""RSA keys as GitHub makes them for Apps: a private key, and its PEM for the App's owner."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def new_app_key() -> tuple[rsa.RSAPrivateKey, str]:
    """A fresh 2048-bit key and its PEM (PKCS#1, as GitHub's download is)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return key, pem
