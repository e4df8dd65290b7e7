"""EnumerateSecurityPackages and QuerySecurityPackageInfo (rule 0.1.3)."""

from __future__ import annotations

import pytest

import schannel_py as sc

NAMES = ["Schannel", "Microsoft Unified Security Protocol Provider", "Default TLS SSP"]


def test_enumerate_lists_schannel_under_its_three_names() -> None:
    count, infos = sc.ULONG(), sc.PVOID()
    assert sc.EnumerateSecurityPackagesW(count, infos) == sc.SEC_E_OK
    assert isinstance(infos.value, list) and count.value == len(infos.value) == 3
    assert [i.Name for i in infos.value] == NAMES
    for info in infos.value:
        assert isinstance(info, sc.SecPkgInfo)
        assert info.fCapabilities == 0x004107B3
        assert info.fCapabilities & sc.SECPKG_FLAG_STREAM
        assert (info.wVersion, info.wRPCID, info.cbMaxToken) == (1, sc.UNISP_RPC_ID, 24576)
        assert info.Comment == "Schannel Security Package"
    assert sc.FreeContextBuffer(infos.value) == sc.SEC_E_OK


def test_dotnet_verify_package_info() -> None:
    """.NET's first call in every SslStream (dotnet/runtime SSPIWrapper.cs,
    GetVerifyPackageInfo): enumerate, find UNISP_NAME case-insensitively, keep its
    cbMaxToken; throws NotSupportedException when it is missing."""
    count, infos = sc.ULONG(), sc.PVOID()
    assert sc.EnumerateSecurityPackages(count, infos) == sc.SEC_E_OK
    found = [
        i
        for i in infos.value[: count.value]  # type: ignore[index]
        if i.Name.lower() == sc.UNISP_NAME.lower()
    ]
    assert len(found) == 1 and found[0].cbMaxToken > 0
    sc.FreeContextBuffer(infos.value)


def test_wine_enumerate_a_lists_unisp_name_a() -> None:
    """Wine's dlls/secur32/tests/schannel.c (testAcquireSecurityContext) looks for
    UNISP_NAME_A in EnumerateSecurityPackagesA's list before anything else."""
    count, infos = sc.ULONG(), sc.PVOID()
    assert sc.EnumerateSecurityPackagesA(count, infos) == sc.SEC_E_OK
    assert sc.UNISP_NAME_A in [i.Name for i in infos.value]  # type: ignore[union-attr]


@pytest.mark.parametrize("name", NAMES + ["microsoft unified security protocol provider"])
def test_query_package_info_by_each_name(name: str) -> None:
    info = sc.PVOID()
    assert sc.QuerySecurityPackageInfoW(name, info) == sc.SEC_E_OK
    assert isinstance(info.value, sc.SecPkgInfo)
    assert info.value.Name.lower() == name.lower()
    assert info.value.cbMaxToken == 24576
    ansi = sc.PVOID()
    assert sc.QuerySecurityPackageInfoA(name.encode() + b"\0", ansi) == sc.SEC_E_OK
    assert ansi.value == info.value
    # Every listed name is one AcquireCredentialsHandle accepts.
    cred = sc.CredHandle()
    status = sc.AcquireCredentialsHandle(
        None, info.value.Name, sc.SECPKG_CRED_OUTBOUND, None, None, None, None, cred, None
    )
    assert status == sc.SEC_E_OK
    sc.FreeCredentialsHandle(cred)


@pytest.mark.parametrize("name", ["Negotiate", "NTLM", "", None, 14, b"\xff\0"])
def test_query_unknown_package(name: object) -> None:
    info = sc.PVOID()
    assert sc.QuerySecurityPackageInfo(name, info) == sc.SEC_E_SECPKG_NOT_FOUND  # type: ignore[arg-type]
    assert info.value is None


def test_missing_out_parameters() -> None:
    assert sc.EnumerateSecurityPackages(None, sc.PVOID()) == sc.SEC_E_INTERNAL_ERROR
    assert sc.EnumerateSecurityPackages(sc.ULONG(), None) == sc.SEC_E_INTERNAL_ERROR
    assert sc.QuerySecurityPackageInfo(sc.UNISP_NAME, None) == sc.SEC_E_INTERNAL_ERROR
