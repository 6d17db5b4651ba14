"""Checking one DNSSEC signature with the ``cryptography`` package, for the validator
(``craft.dns.validate``): DNSKEY key octets and RRSIG signature octets as RFC 3110 (RSA),
RFC 5702 (RSA/SHA-2), RFC 6605 (ECDSA) and RFC 8080 (EdDSA) lay them out, turned into the
package's key objects. No cryptography is written here; bad octets become a reason string.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from craft.dns.rdtypes.fields import ALGORITHMS

_RSA = {8: hashes.SHA256, 10: hashes.SHA512}
_ECDSA: dict[int, tuple[ec.EllipticCurve, type[hashes.HashAlgorithm], int]] = {
    13: (ec.SECP256R1(), hashes.SHA256, 32),
    14: (ec.SECP384R1(), hashes.SHA384, 48),
}
_EDDSA = {15: 32, 16: 57}  # key octets; a signature is twice as long
SUPPORTED = frozenset({*_RSA, *_ECDSA, *_EDDSA})


def algorithm_text(algorithm: int) -> str:
    """``13 (ECDSAP256SHA256)``: the number, and its mnemonic when it has one."""
    name = ALGORITHMS.get(algorithm)
    return f"{algorithm} ({name})" if name else str(algorithm)


def check_signature(algorithm: int, key: bytes, signature: bytes, data: bytes) -> str | None:
    """None when ``signature`` by the DNSKEY ``key`` octets verifies over ``data``; otherwise
    why not (unsupported algorithm, malformed key or signature, or a wrong signature)."""
    if algorithm not in SUPPORTED:
        return f"unsupported algorithm {algorithm_text(algorithm)}"
    try:
        if algorithm in _RSA:
            return _rsa(_RSA[algorithm](), key, signature, data)
        if algorithm in _ECDSA:
            curve, digest, size = _ECDSA[algorithm]
            return _ecdsa(curve, digest(), size, key, signature, data)
        return _eddsa(algorithm, key, signature, data)
    except InvalidSignature:
        return "signature does not verify"
    except (ValueError, UnsupportedAlgorithm) as exc:
        return f"malformed key or signature ({exc})"


def _rsa(digest: hashes.HashAlgorithm, key: bytes, signature: bytes, data: bytes) -> str | None:
    # RFC 3110 2: exponent length in one octet, or a zero octet and two octets.
    if not key:
        return "malformed RSA key: empty"
    if key[0]:
        size, start = key[0], 1
    elif len(key) >= 3:
        size, start = int.from_bytes(key[1:3], "big"), 3
    else:
        return "malformed RSA key: no exponent length"
    exponent = key[start:start + size]
    modulus = key[start + size:]
    if len(exponent) != size or not modulus:
        return f"malformed RSA key: {len(key)} octets cannot hold a {size}-octet exponent and a modulus"
    public = rsa.RSAPublicNumbers(int.from_bytes(exponent, "big"),
                                  int.from_bytes(modulus, "big")).public_key()
    public.verify(signature, data, padding.PKCS1v15(), digest)
    return None


def _ecdsa(curve: ec.EllipticCurve, digest: hashes.HashAlgorithm, size: int, key: bytes,
           signature: bytes, data: bytes) -> str | None:
    if len(key) != 2 * size:
        return f"malformed ECDSA key: {len(key)} octets, {curve.name} needs {2 * size}"
    if len(signature) != 2 * size:
        return f"malformed ECDSA signature: {len(signature)} octets, {curve.name} gives {2 * size}"
    public = ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + key)
    # DNS carries r and s side by side (RFC 6605 4); the package wants DER.
    der = encode_dss_signature(int.from_bytes(signature[:size], "big"),
                               int.from_bytes(signature[size:], "big"))
    public.verify(der, data, ec.ECDSA(digest))
    return None


def _eddsa(algorithm: int, key: bytes, signature: bytes, data: bytes) -> str | None:
    size = _EDDSA[algorithm]
    if len(key) != size:
        return f"malformed EdDSA key: {len(key)} octets, algorithm {algorithm} needs {size}"
    if len(signature) != 2 * size:
        return f"malformed EdDSA signature: {len(signature)} octets, algorithm {algorithm} gives {2 * size}"
    if algorithm == 15:
        ed25519.Ed25519PublicKey.from_public_bytes(key).verify(signature, data)
    else:
        ed448.Ed448PublicKey.from_public_bytes(key).verify(signature, data)
    return None
