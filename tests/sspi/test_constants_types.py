"""Constants (values cross-checked against docs/windows-behaviour.md section 0) and SSPI types."""

from __future__ import annotations

import copy
import pickle
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

import schannel_py.constants as C
from schannel_py.constants import FAILED, SUCCEEDED, SecStatus, status_name
from schannel_py.sspi import types as T

# --- SecStatus ---------------------------------------------------------------------------


def test_status_is_unsigned_int_with_windows_name() -> None:
    s = C.SEC_E_INCOMPLETE_MESSAGE
    assert isinstance(s, int)
    assert s == 0x80090318
    assert s > 0
    assert repr(s) == "SEC_E_INCOMPLETE_MESSAGE"
    assert str(s) == "SEC_E_INCOMPLETE_MESSAGE"
    assert f"{s}" == "SEC_E_INCOMPLETE_MESSAGE"
    assert f"{s:#010x}" == "0x80090318"
    assert hex(s) == "0x80090318"
    assert repr(C.SEC_E_OK) == "SEC_E_OK" and C.SEC_E_OK == 0


def test_status_from_plain_int_is_named_and_interned() -> None:
    s = SecStatus(0x80090318)
    assert repr(s) == "SEC_E_INCOMPLETE_MESSAGE"
    assert s is C.SEC_E_INCOMPLETE_MESSAGE
    assert SecStatus(0x00090312) is C.SEC_I_CONTINUE_NEEDED
    # the signed LONG a C binding would hand over
    assert SecStatus(-2146893032) is C.SEC_E_INCOMPLETE_MESSAGE
    assert SecStatus(C.SEC_E_OK) is C.SEC_E_OK


def test_unknown_status_repr() -> None:
    s = SecStatus(0x1234ABCD)
    assert s == 0x1234ABCD
    assert repr(s) == "SecStatus(0x1234ABCD)"
    assert str(s) == "SecStatus(0x1234ABCD)"
    assert s.name is None
    assert status_name(0x00000007) == "SecStatus(0x00000007)"
    assert SecStatus(0x80091234).message  # a non-empty phrase even when unknown


def test_status_out_of_range_rejected() -> None:
    with pytest.raises(ValueError):
        SecStatus(0x1_0000_0000)
    with pytest.raises(ValueError):
        SecStatus(-0x80000001)


def test_aliases_keep_primary_name() -> None:
    assert C.SEC_E_NOT_SUPPORTED is C.SEC_E_UNSUPPORTED_FUNCTION
    assert repr(C.SEC_E_NOT_SUPPORTED) == "SEC_E_UNSUPPORTED_FUNCTION"
    assert C.SEC_E_NO_SPM is C.SEC_E_INTERNAL_ERROR
    assert repr(SecStatus(0x80090304)) == "SEC_E_INTERNAL_ERROR"
    assert status_name(0x80090302) == "SEC_E_UNSUPPORTED_FUNCTION"


def test_status_name_and_message() -> None:
    assert status_name(C.SEC_E_WRONG_PRINCIPAL) == "SEC_E_WRONG_PRINCIPAL"
    assert status_name(0x80090322) == "SEC_E_WRONG_PRINCIPAL"
    # texts the spec quotes verbatim from winerror.h
    assert C.SEC_E_WRONG_PRINCIPAL.message == "The target principal name is incorrect."
    assert C.SEC_I_RENEGOTIATE.message == "The context data must be renegotiated with the peer."
    for name in C.__all__:
        value = getattr(C, name)
        if isinstance(value, SecStatus):
            assert value.message, name
            assert value.name is not None


def test_failed_succeeded() -> None:
    assert FAILED(C.SEC_E_INCOMPLETE_MESSAGE) and not SUCCEEDED(C.SEC_E_INCOMPLETE_MESSAGE)
    assert SUCCEEDED(C.SEC_E_OK) and SUCCEEDED(C.SEC_I_CONTINUE_NEEDED)
    assert SUCCEEDED(C.SEC_I_CONTEXT_EXPIRED)
    # SEC_I_INVALID_SESSION_STATE has the failure bit set despite its name
    assert FAILED(C.SEC_I_INVALID_SESSION_STATE)
    assert FAILED(-2146893032)  # signed form
    assert C.SEC_E_INVALID_TOKEN.failed and not C.SEC_E_OK.failed


def test_status_survives_pickle_and_copy() -> None:
    s = C.SEC_E_ALGORITHM_MISMATCH
    assert pickle.loads(pickle.dumps(s)) is s
    assert copy.copy(s) is s
    assert copy.deepcopy(s) is s


def test_status_arithmetic_is_int() -> None:
    assert C.SEC_E_OK + 1 == 1
    table: dict[int, str] = {C.SEC_E_OK: "x"}
    assert table[0] == "x"
    assert C.SEC_E_INVALID_TOKEN in {0x80090308}


# --- values cross-checked against the spec tables ------------------------------------------

SPEC_VALUES = {
    # 0.1
    "SECBUFFER_VERSION": 0,
    "SECBUFFER_EMPTY": 0,
    "SECBUFFER_DATA": 1,
    "SECBUFFER_TOKEN": 2,
    "SECBUFFER_MISSING": 4,
    "SECBUFFER_EXTRA": 5,
    "SECBUFFER_STREAM_TRAILER": 6,
    "SECBUFFER_STREAM_HEADER": 7,
    "SECBUFFER_ALERT": 17,
    "SECBUFFER_APPLICATION_PROTOCOLS": 18,
    "SECBUFFER_FLAGS": 27,
    "SECBUFFER_SESSION_TICKET": 32,
    "SECBUFFER_READONLY": 0x80000000,
    "SECBUFFER_ATTRMASK": 0xF0000000,
    # 0.2
    "ISC_REQ_CONFIDENTIALITY": 0x10,
    "ISC_REQ_ALLOCATE_MEMORY": 0x100,
    "ISC_REQ_STREAM": 0x8000,
    "ISC_REQ_MANUAL_CRED_VALIDATION": 0x80000,
    "ISC_REQ_USE_SUPPLIED_CREDS": 0x80,
    "ISC_REQ_CONFIDENTIALITY_ONLY": 0x40000000,
    "ISC_REQ_MESSAGES": 0x0000000100000000,
    "ISC_REQ_EXPLICIT_SESSION": 0x0000001000000000,
    "ISC_RET_USED_COLLECTED_CREDS": 0x40,
    "ISC_RET_INTERMEDIATE_RETURN": 0x1000,
    "ISC_RET_CALL_LEVEL": 0x2000,
    "ISC_RET_FRAGMENT_ONLY": 0x00200000,
    "ISC_RET_NO_ADDITIONAL_TOKEN": 0x02000000,
    "ISC_RET_REAUTHENTICATION": 0x08000000,
    "ISC_RET_NO_POST_HANDSHAKE_AUTH": 0x0000000400000000,
    # 0.3
    "SEC_I_CONTINUE_NEEDED": 0x00090312,
    "SEC_I_CONTEXT_EXPIRED": 0x00090317,
    "SEC_I_INCOMPLETE_CREDENTIALS": 0x00090320,
    "SEC_I_RENEGOTIATE": 0x00090321,
    "SEC_I_INVALID_SESSION_STATE": 0x8009036C,
    "SEC_E_INVALID_TOKEN": 0x80090308,
    "SEC_E_MESSAGE_ALTERED": 0x8009030F,
    "SEC_E_CONTEXT_EXPIRED": 0x80090317,
    "SEC_E_WRONG_PRINCIPAL": 0x80090322,
    "SEC_E_UNTRUSTED_ROOT": 0x80090325,
    "SEC_E_ILLEGAL_MESSAGE": 0x80090326,
    "SEC_E_DECRYPT_FAILURE": 0x80090330,
    "SEC_E_ALGORITHM_MISMATCH": 0x80090331,
    "SEC_E_APPLICATION_PROTOCOL_MISMATCH": 0x80090367,
    "SEC_E_INSUFFICIENT_BUFFERS": 0x8009036B,
    "CRYPT_E_REVOKED": 0x80092010,
    "CRYPT_E_REVOCATION_OFFLINE": 0x80092013,
    "TRUST_E_CERT_SIGNATURE": 0x80096004,
    "CERT_E_CN_NO_MATCH": 0x800B010F,
    "CERT_E_UNTRUSTEDCA": 0x800B0112,
    # 0.4
    "TLS1_ALERT_FATAL": 2,
    "TLS1_ALERT_BAD_CERTIFICATE": 42,
    "TLS1_ALERT_INSUFFIENT_SECURITY": 71,
    "TLS1_ALERT_INSUFFICIENT_SECURITY": 71,
    "TLS1_ALERT_UNKNOWN_PSK_IDENTITY": 115,
    "TLS1_ALERT_NO_APP_PROTOCOL": 120,
    # 0, 2
    "UNISP_RPC_ID": 14,
    "SECPKG_FLAG_STREAM": 0x400,
    "SECPKG_CRED_OUTBOUND": 2,
    "SECPKG_CRED_BOTH": 3,
    "SECPKG_CRED_RESERVED": 0xF0000000,
    "SECPKG_CRED_ATTR_NAMES": 1,
    # 2.2, 2.3
    "SCH_CRED_V3": 3,
    "SCH_CRED_VERSION": 2,
    "SCHANNEL_CRED_VERSION": 4,
    "SCH_CREDENTIALS_VERSION": 5,
    "SCH_CRED_MAX_SUPPORTED_PARAMETERS": 16,
    "SCH_CRED_MAX_SUPPORTED_ALGS": 256,
    "SCH_CRED_MAX_SUPPORTED_CERTS": 100,
    "SCH_CRED_FORMAT_CERT_HASH_STORE": 2,
    "TLS_PARAMS_OPTIONAL": 1,
    "TlsParametersCngAlgUsageKeyExchange": 0,
    "TlsParametersCngAlgUsageCertSig": 4,
    # 2.4
    "SCH_CRED_NO_SERVERNAME_CHECK": 0x4,
    "SCH_CRED_MANUAL_CRED_VALIDATION": 0x8,
    "SCH_CRED_DISABLE_RECONNECTS": 0x80,
    "SCH_CRED_REVOCATION_CHECK_CHAIN": 0x200,
    "SCH_CRED_IGNORE_REVOCATION_OFFLINE": 0x1000,
    "SCH_USE_STRONG_CRYPTO": 0x00400000,
    "SCH_CRED_DEFERRED_CRED_VALIDATION": 0x04000000,
    # 2.5
    "SP_PROT_TLS1_CLIENT": 0x80,
    "SP_PROT_TLS1_0_CLIENT": 0x80,
    "SP_PROT_TLS1_2_CLIENT": 0x800,
    "SP_PROT_TLS1_3_CLIENT": 0x2000,
    "SP_PROT_DTLS1_2_CLIENT": 0x80000,
    "SP_PROT_UNI_CLIENT": 0x80000000,
    "SP_PROT_ALL": 0xFFFFFFFF,
    "SP_PROT_TLS1_1PLUS_CLIENT": 0x2A00,
    "SP_PROT_TLS1_3PLUS_CLIENT": 0x2000,
    "SP_PROT_TLS1_X_CLIENT": 0x2A80,
    "SP_PROT_TLS1_X_SERVER": 0x1540,
    "SP_PROT_DTLS1_X_CLIENT": 0xA0000,
    "SP_PROT_CLIENTS": 0x800000AA,
    "SP_PROT_SSL3TLS1_CLIENTS": 0xA0,
    # 3.1
    "SECQOP_WRAP_OOB_DATA": 0x40000000,
    "SECQOP_WRAP_NO_ENCRYPT": 0x80000001,
    # 4.1
    "SECPKG_ATTR_STREAM_SIZES": 4,
    "SECPKG_ATTR_DATAGRAM_SIZES": 4,
    "SECPKG_ATTR_FLAGS": 14,
    "SECPKG_ATTR_ACCESS_TOKEN": 18,
    "SECPKG_ATTR_UNIQUE_BINDINGS": 25,
    "SECPKG_ATTR_ENDPOINT_BINDINGS": 26,
    "SECPKG_ATTR_APPLICATION_PROTOCOL": 35,
    "SECPKG_ATTR_REMOTE_CERT_CONTEXT": 0x53,
    "SECPKG_ATTR_ISSUER_LIST_EX": 0x59,
    "SECPKG_ATTR_CONNECTION_INFO": 0x5A,
    "SECPKG_ATTR_EAP_KEY_BLOCK": 0x5B,
    "SECPKG_ATTR_SESSION_INFO": 0x5D,
    "SECPKG_ATTR_CIPHER_INFO": 0x64,
    "SECPKG_ATTR_SUPPORTED_SIGNATURES": 0x66,
    "SECPKG_ATTR_CERT_CHECK_RESULT": 0x71,
    "SECPKG_ATTR_SERIALIZED_REMOTE_CERT_CONTEXT": 0x75,
    "SECPKG_ATTR_SUBJECT_SECURITY_ATTRIBUTES": 128,
    "SECPKG_ATTR_CREDS_2": 0x80000086,
    # 4.2
    "SECPKGCONTEXT_CIPHERINFO_V1": 1,
    "SZ_ALG_MAX_SIZE": 64,
    "MAX_PROTOCOL_ID_SIZE": 0xFF,
    "SecApplicationProtocolNegotiationStatus_SelectedClientOnly": 2,
    "SecApplicationProtocolNegotiationExt_NPN": 1,
    "SecApplicationProtocolNegotiationExt_ALPN": 2,
    # 4.3
    "CALG_SHA1": 0x8004,
    "CALG_SHA_256": 0x800C,
    "CALG_SHA_384": 0x800D,
    "CALG_RSA_KEYX": 0xA400,
    "CALG_ECDH_EPHEM": 0xAE06,
    "CALG_AES_128": 0x660E,
    "CALG_AES_256": 0x6610,
    "CALG_TLS1_MASTER": 0x4C06,
    # 5
    "SCHANNEL_SHUTDOWN": 1,
    "SCHANNEL_ALERT": 2,
    "SCHANNEL_SESSION": 3,
    "SSL_SESSION_DISABLE_RECONNECTS": 2,
    "SSL_SESSION_RECONNECT": 1,
    # 0.1 (sspi.h SecPkgInfo capabilities)
    "SECPKG_FLAG_INTEGRITY": 0x1,
    "SECPKG_FLAG_PRIVACY": 0x2,
    "SECPKG_FLAG_CONNECTION": 0x10,
    "SECPKG_FLAG_MULTI_REQUIRED": 0x20,
    "SECPKG_FLAG_EXTENDED_ERROR": 0x80,
    "SECPKG_FLAG_IMPERSONATION": 0x100,
    "SECPKG_FLAG_ACCEPT_WIN32_NAME": 0x200,
    "SECPKG_FLAG_MUTUAL_AUTH": 0x10000,
    "SECPKG_FLAG_APPCONTAINER_PASSTHROUGH": 0x400000,
    # misc
    "SECURITY_NATIVE_DREP": 0x10,
    "SECURITY_NETWORK_DREP": 0,
}


@pytest.mark.parametrize(("name", "value"), sorted(SPEC_VALUES.items()))
def test_spec_value(name: str, value: int) -> None:
    assert getattr(C, name) == value


def test_package_names() -> None:
    assert C.UNISP_NAME == "Microsoft Unified Security Protocol Provider"
    assert C.SCHANNEL_NAME == "Schannel"
    assert C.DEFAULT_TLS_SSP_NAME == "Default TLS SSP"
    assert C.TLS1SP_NAME == "Microsoft TLS 1.0"
    assert C.UNISP_NAME_W == C.UNISP_NAME_A == C.UNISP_NAME
    assert C.SCHANNEL_RSA_PSS_PADDING_ALGORITHM == "SCH_RSA_PSS_PAD"


def test_non_status_constants_are_plain_ints() -> None:
    assert type(C.SECBUFFER_TOKEN) is int
    assert type(C.ISC_REQ_STREAM) is int
    assert type(C.SP_PROT_TLS1_2_CLIENT) is int


def test_all_lists_every_public_constant() -> None:
    public = {
        n
        for n, v in vars(C).items()
        if not n.startswith("_") and isinstance(v, (int, str)) and not isinstance(v, type)
    }
    public.discard("annotations")
    assert public <= set(C.__all__)
    assert len(C.__all__) == len(set(C.__all__))
    for name in C.__all__:
        assert hasattr(C, name), name


def test_curl_context_attr_example() -> None:
    # docs/windows-behaviour.md rule 1.4.2
    attrs = (
        C.ISC_RET_REPLAY_DETECT
        | C.ISC_RET_SEQUENCE_DETECT
        | C.ISC_RET_CONFIDENTIALITY
        | C.ISC_RET_STREAM
        | C.ISC_RET_USED_SUPPLIED_CREDS
    )
    assert attrs == 0x0000809C


# --- handles and scalars --------------------------------------------------------------


def test_handles() -> None:
    h = T.CtxtHandle()
    assert h.dwLower == 0 and h.dwUpper == 0 and h.is_null
    h.dwLower = 5
    assert not h.is_null
    assert T.CtxtHandle(1, 2) == T.CtxtHandle(1, 2)
    assert T.CtxtHandle(1, 2) != T.CredHandle(1, 2)
    with pytest.raises(TypeError):
        hash(T.CredHandle())
    T.SecInvalidateHandle(h)
    assert not T.SecIsValidHandle(h)
    assert T.SecIsValidHandle(T.CredHandle(3, 4))


def test_timestamp_parts() -> None:
    ts = T.TimeStamp()
    assert ts.QuadPart == 0 and ts.LowPart == 0 and ts.HighPart == 0
    ts = T.TimeStamp(0x7FFFFFFFFFFFFFFF)
    assert ts.LowPart == 0xFFFFFFFF and ts.HighPart == 0x7FFFFFFF
    ts = T.TimeStamp(-1)
    assert ts.LowPart == 0xFFFFFFFF and ts.HighPart == -1
    ts = T.TimeStamp()
    ts.HighPart = 1
    ts.LowPart = 2
    assert ts.QuadPart == (1 << 32) | 2


def test_ulong_and_pvoid() -> None:
    assert T.ULONG().value == 0
    pv = T.PVOID()
    assert pv.value is None
    pv.value = object()
    assert pv.value is not None


# --- buffers --------------------------------------------------------------------------


def test_secbuffer_data() -> None:
    assert T.SecBuffer().data() == b""
    assert T.SecBuffer(3, C.SECBUFFER_TOKEN, b"abcdef").data() == b"abc"
    assert T.SecBuffer(100, C.SECBUFFER_TOKEN, bytearray(b"xy")).data() == b"xy"
    assert T.SecBuffer(2, C.SECBUFFER_DATA, memoryview(b"hello")[1:]).data() == b"el"
    assert T.SecBuffer(0, C.SECBUFFER_DATA, b"abc").data() == b""
    assert T.SecBuffer(5, C.SECBUFFER_TOKEN, None).data() == b""
    b = T.SecBuffer(1, C.SECBUFFER_TOKEN | C.SECBUFFER_READONLY, b"z")
    assert b.base_type == C.SECBUFFER_TOKEN


def test_secbufferdesc_cbuffers_default() -> None:
    bufs = [T.SecBuffer(0, C.SECBUFFER_TOKEN), T.SecBuffer(0, C.SECBUFFER_EMPTY)]
    d = T.SecBufferDesc(bufs)
    assert d.cBuffers == 2
    assert d.ulVersion == C.SECBUFFER_VERSION
    assert d.pBuffers is bufs  # the caller's list, not a copy
    assert T.SecBufferDesc().cBuffers == 0
    d1 = T.SecBufferDesc(bufs, cBuffers=1)
    assert d1.cBuffers == 1
    assert d1.active_buffers() == [bufs[0]]
    assert T.SecBufferDesc(bufs, cBuffers=9).active_buffers() == bufs


def test_secbufferdesc_release() -> None:
    data = bytearray(b"0123456789")
    d = T.SecBufferDesc([T.SecBuffer(4, C.SECBUFFER_DATA, memoryview(data)[2:6])])
    d.release()
    assert d.pBuffers[0].pvBuffer is None
    data[:] = b"resizable"  # no live exports any more


# --- credential structures ----------------------------------------------------------------


def test_effective_list() -> None:
    assert T.effective_list(0, None) == []
    assert T.effective_list(3, None) == []
    assert T.effective_list(0, [1, 2, 3]) == [1, 2, 3]
    assert T.effective_list(2, [1, 2, 3]) == [1, 2]
    assert T.effective_list(9, (1, 2)) == [1, 2]


def test_credential_structures_default_and_helpers() -> None:
    sc = T.SCHANNEL_CRED()
    assert sc.dwVersion == 0 and sc.paCred is None and sc.creds() == []
    sc = T.SCHANNEL_CRED(
        dwVersion=C.SCHANNEL_CRED_VERSION, palgSupportedAlgs=[C.CALG_AES_128, C.CALG_RSA_KEYX]
    )
    assert sc.supported_algs() == [C.CALG_AES_128, C.CALG_RSA_KEYX]
    cs = T.CRYPTO_SETTINGS(
        eAlgorithmUsage=C.TlsParametersCngAlgUsageCipher,
        strCngAlgId="AES",
        rgstrChainingModes=["ChainingModeCBC", "ChainingModeGCM"],
        cChainingModes=1,
    )
    assert cs.chaining_modes() == ["ChainingModeCBC"]
    tp = T.TLS_PARAMETERS(grbitDisabledProtocols=C.SP_PROT_TLS1_3_CLIENT, pDisabledCrypto=[cs])
    assert tp.disabled_crypto() == [cs] and tp.alpn_ids() == []
    creds = T.SCH_CREDENTIALS(
        dwVersion=C.SCH_CREDENTIALS_VERSION, dwFlags=C.SCH_USE_STRONG_CRYPTO, pTlsParameters=[tp]
    )
    assert creds.tls_parameters() == [tp]
    assert creds.cTlsParameters == 0 and creds.hRootStore is None


def test_attribute_structures_defaults() -> None:
    assert T.SecPkgContext_CipherInfo().dwVersion == C.SECPKGCONTEXT_CIPHERINFO_V1
    assert T.SecPkgContext_CipherInfo().szCipherSuite == ""
    ap = T.SecPkgContext_ApplicationProtocol()
    assert (ap.ProtoNegoStatus, ap.ProtoNegoExt, ap.ProtocolIdSize, ap.ProtocolId) == (
        0,
        0,
        0,
        b"",
    )
    a, b = T.SecPkgContext_IssuerListInfoEx(), T.SecPkgContext_IssuerListInfoEx()
    a.aIssuers.append(b"x")
    assert b.aIssuers == []  # no shared mutable default
    assert T.SecPkgContext_SessionInfo().rgbSessionId == b""
    assert T.SecPkgContext_StreamSizes().cbMaximumMessage == 0
    assert T.SecPkgCredentials_Names().sUserName is None


# --- wire formats --------------------------------------------------------------------------


def test_alpn_exact_bytes() -> None:
    # docs/windows-behaviour.md rule 1.2.1, computed by hand:
    # list = 08 "http/1.1" 02 "h2" (12 bytes); entry = ULONG 2, USHORT 12, list (18 bytes)
    expected = (
        b"\x12\x00\x00\x00"  # ProtocolListsSize = 18
        b"\x02\x00\x00\x00"  # ProtoNegoExt = ALPN
        b"\x0c\x00"  # ProtocolListSize = 12
        b"\x08http/1.1\x02h2"
    )
    packed = T.pack_application_protocols([b"http/1.1", b"h2"])
    assert packed == expected
    assert len(packed) == 4 + 4 + 2 + 12
    assert T.pack_application_protocols(["http/1.1", "h2"]) == expected


def test_alpn_round_trip_and_rules() -> None:
    protos = [b"h2", b"http/1.1", b"x" * 255]
    assert T.parse_application_protocols(T.pack_application_protocols(protos)) == protos
    # NPN lists are skipped, not an error
    npn = T.pack_application_protocols([b"spdy/3"], ext=C.SecApplicationProtocolNegotiationExt_NPN)
    assert T.parse_application_protocols(npn) == []
    # two lists: NPN then ALPN
    body = npn[4:] + T.pack_application_protocols([b"h2"])[4:]
    assert T.parse_application_protocols(struct.pack("<I", len(body)) + body) == [b"h2"]
    # trailing bytes beyond ProtocolListsSize are ignored
    assert T.parse_application_protocols(T.pack_application_protocols([b"h2"]) + b"\xff") == [b"h2"]
    with pytest.raises(ValueError):
        T.pack_application_protocols([b""])
    with pytest.raises(ValueError):
        T.pack_application_protocols([b"x" * 256])


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"\x01\x00\x00",
        b"\x10\x00\x00\x00",  # claims 16 bytes, has none
        b"\x03\x00\x00\x00\x02\x00\x00",  # list header cut short
        b"\x08\x00\x00\x00\x02\x00\x00\x00\x05\x00\x01a",  # list overruns
        b"\x09\x00\x00\x00\x02\x00\x00\x00\x03\x00\x05ab",  # id overruns its list
        b"\x08\x00\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00",  # empty id
    ],
)
def test_alpn_malformed_is_none(blob: bytes) -> None:
    assert T.parse_application_protocols(blob) is None


@given(st.binary(max_size=300))
def test_alpn_parse_never_raises(blob: bytes) -> None:
    result = T.parse_application_protocols(blob)
    assert result is None or all(isinstance(p, bytes) and 1 <= len(p) <= 255 for p in result)
    T.parse_application_protocols(bytearray(blob))
    T.parse_application_protocols(memoryview(blob))


@given(st.lists(st.binary(min_size=1, max_size=255), max_size=20))
def test_alpn_round_trip_property(protos: list[bytes]) -> None:
    assert T.parse_application_protocols(T.pack_application_protocols(protos)) == protos


def test_channel_bindings_layout() -> None:
    app = b"tls-unique:" + bytes(range(12))
    blob = T.pack_channel_bindings(app)
    assert len(blob) == 32 + len(app)
    fields = struct.unpack("<8I", blob[:32])
    assert fields == (0, 0, 0, 0, 0, 0, len(app), 32)
    assert blob[32:] == app
    assert T.parse_channel_bindings(blob) == app
    assert T.parse_channel_bindings(blob[:31]) is None
    assert T.parse_channel_bindings(blob[:-1]) is None


def test_control_tokens() -> None:
    assert T.pack_control_token(C.SCHANNEL_SHUTDOWN) == b"\x01\x00\x00\x00"
    alert = T.pack_alert_token(C.TLS1_ALERT_FATAL, C.TLS1_ALERT_BAD_CERTIFICATE)
    assert alert == b"\x02\x00\x00\x00\x02\x00\x00\x00\x2a\x00\x00\x00"
    assert T.SCHANNEL_ALERT_TOKEN(dwAlertType=2, dwAlertNumber=42).pack() == alert
    sess = T.pack_session_token(C.SSL_SESSION_DISABLE_RECONNECTS)
    assert sess == b"\x03\x00\x00\x00\x02\x00\x00\x00"
    assert T.SCHANNEL_SESSION_TOKEN(dwFlags=2).pack() == sess


def test_sec_flags() -> None:
    packed = T.pack_sec_flags(C.ISC_REQ_MESSAGES | C.ISC_REQ_EXPLICIT_SESSION)
    assert packed == b"\x00\x00\x00\x00\x11\x00\x00\x00"
    assert T.unpack_sec_flags(packed) == 0x0000001100000000
    assert T.unpack_sec_flags(b"\x00" * 7) is None
    with pytest.raises(ValueError):
        T.pack_sec_flags(-1)
    with pytest.raises(ValueError):
        T.pack_sec_flags(1 << 64)


def test_types_all_is_complete() -> None:
    for name in T.__all__:
        assert hasattr(T, name), name
    assert not set(T.__all__) & set(C.__all__)
