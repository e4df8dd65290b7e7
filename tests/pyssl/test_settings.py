"""schannel_py.ssl.SSLContext settings without a peer, against Python's own ``ssl``:
``set_ciphers`` / ``get_ciphers`` and the CRYPTO_SETTINGS they become, ``SSLSession``
as CPython's cannot be built, ``post_handshake_auth``'s default."""

from __future__ import annotations

import ssl

import pytest

from schannel_py import constants as C
from schannel_py import ssl as sch_ssl
from schannel_py.sspi import credentials as K


def offered(ctx: sch_ssl.SSLContext) -> list[str]:
    return [c["name"] for c in ctx.get_ciphers()]


def test_default_get_ciphers_are_openssls_entries() -> None:
    """Every suite of the default offer, described exactly as CPython describes it."""
    theirs = {c["name"]: c for c in ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).get_ciphers()}
    mine = sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).get_ciphers()
    assert [c["protocol"] for c in mine[:3]] == ["TLSv1.3"] * 3
    assert {c["name"] for c in mine} == {
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        *sch_ssl._SUITE_SHAPES,
    }
    for entry in mine:
        assert entry == theirs[entry["name"]]


@pytest.mark.parametrize(
    ("cipherlist", "settings"),
    [
        ("ECDHE+AESGCM", [(C.TlsParametersCngAlgUsageCipher, "CHACHA20_POLY1305", 0, 0)]),
        ("HIGH:!AES256", [(C.TlsParametersCngAlgUsageCipher, "AES", 0, 128)]),
        (
            "ECDHE-RSA-AES256-GCM-SHA384",
            [
                (C.TlsParametersCngAlgUsageCipher, "AES", 256, 0),
                (C.TlsParametersCngAlgUsageCipher, "CHACHA20_POLY1305", 0, 0),
                (C.TlsParametersCngAlgUsageSignature, "ECDSA", 0, 0),
            ],
        ),
        ("DEFAULT", []),
        ("ECDHE+CHACHA20", [(C.TlsParametersCngAlgUsageCipher, "AES", 0, 0)]),
    ],
)
def test_set_ciphers_becomes_crypto_settings(
    cipherlist: str, settings: list[tuple[int, str, int, int]]
) -> None:
    """The credential's CRYPTO_SETTINGS, and the suites SChannel then keeps: those of
    the package OpenSSL's own evaluation of the string allows (TLS 1.2), and the
    TLS 1.3 suites whose cipher is not disabled."""
    ctx = sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.set_ciphers(cipherlist)
    assert list(ctx._sch_crypto) == settings
    theirs = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    theirs.set_ciphers(cipherlist)
    allowed = {c["name"] for c in theirs.get_ciphers()}
    names = offered(ctx)
    tls12 = {n for n in names if not n.startswith("TLS_")}
    assert tls12 == allowed & set(sch_ssl._SUITE_SHAPES)
    cred = K.CREDENTIALS.get(ctx._credential())
    assert cred is not None
    ciphers = {sch_ssl._SUITE_SHAPES[n][0] for n in tls12}
    for name in names:
        if name.startswith("TLS_"):
            cipher = {
                "TLS_AES_128_GCM_SHA256": "AES128",
                "TLS_AES_256_GCM_SHA384": "AES256",
                "TLS_CHACHA20_POLY1305_SHA256": "CHACHA20",
            }[name]
            assert cipher in ciphers


def test_set_ciphers_errors_as_cpython() -> None:
    for bad in ("RC4", "nonsense"):
        with pytest.raises(ssl.SSLError) as theirs:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).set_ciphers(bad)
        with pytest.raises(ssl.SSLError) as mine:
            sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).set_ciphers(bad)
        assert mine.value.args == theirs.value.args


def test_set_ciphers_while_injected() -> None:
    """urllib3 1.x and older httpx call set_ciphers on contexts built through the
    injected name: no recursion, and the settings apply."""
    sch_ssl.inject_into_ssl()
    try:
        ctx = ssl.create_default_context()
        ctx.set_ciphers("ECDHE+AESGCM:!aRSA")
        assert "ECDHE-RSA-AES128-GCM-SHA256" not in offered(ctx)
        assert "ECDHE-ECDSA-AES128-GCM-SHA256" in offered(ctx)
    finally:
        sch_ssl.extract_from_ssl()


def test_sslsession_cannot_be_built_as_cpython() -> None:
    with pytest.raises(TypeError, match="cannot create"):
        ssl.SSLSession()
    with pytest.raises(TypeError, match="cannot create"):
        sch_ssl.SSLSession()


def test_post_handshake_auth_defaults_as_cpython() -> None:
    assert (
        sch_ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).post_handshake_auth
        == ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).post_handshake_auth
        is False
    )
