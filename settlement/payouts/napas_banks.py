"""The banks a payout can be sent to: participants of NAPAS's interbank transfer (NAPAS 247),
each identified by its 6-digit bank identification number (BIN).

Source: the VietQR bank list that NAPAS participants publish for transfers by BIN
(``https://api.vietqr.io/v2/banks``, fields ``bin``, ``code``, ``shortName``), as of
October 2026. Banks merge and rename (Oceanbank is now MBV, LienVietPostBank is LPBank);
when a new participant joins, add its row here, with the list's code and short name.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class NapasBank:
    bank_bin: str
    code: str  # the list's short code, e.g. VCB
    short_name: str  # e.g. Vietcombank


_ROWS = (
    ("970400", "SGICB", "SaigonBank"),
    ("970403", "STB", "Sacombank"),
    ("970405", "VBA", "Agribank"),
    ("970406", "DOB", "DongABank"),
    ("970407", "TCB", "Techcombank"),
    ("970408", "GPB", "GPBank"),
    ("970409", "BAB", "BacABank"),
    ("970410", "SCVN", "StandardChartered"),
    ("970412", "PVCB", "PVcomBank"),
    ("970414", "MBV", "MBV"),
    ("970415", "ICB", "VietinBank"),
    ("970416", "ACB", "ACB"),
    ("970418", "BIDV", "BIDV"),
    ("970419", "NCB", "NCB"),
    ("970421", "VRB", "VRB"),
    ("970422", "MB", "MBBank"),
    ("970423", "TPB", "TPBank"),
    ("970424", "SHBVN", "ShinhanBank"),
    ("970425", "ABB", "ABBANK"),
    ("970426", "MSB", "MSB"),
    ("970427", "VAB", "VietABank"),
    ("970428", "NAB", "NamABank"),
    ("970429", "SCB", "SCB"),
    ("970430", "PGB", "PGBank"),
    ("970431", "EIB", "Eximbank"),
    ("970432", "VPB", "VPBank"),
    ("970433", "VIETBANK", "VietBank"),
    ("970434", "IVB", "IndovinaBank"),
    ("970436", "VCB", "Vietcombank"),
    ("970437", "HDB", "HDBank"),
    ("970438", "BVB", "BaoVietBank"),
    ("970439", "PBVN", "PublicBank"),
    ("970440", "SEAB", "SeABank"),
    ("970441", "VIB", "VIB"),
    ("970442", "HLBVN", "HongLeong"),
    ("970443", "SHB", "SHB"),
    ("970444", "CBB", "CBBank"),
    ("970446", "COOPBANK", "COOPBANK"),
    ("970448", "OCB", "OCB"),
    ("970449", "LPB", "LPBank"),
    ("970452", "KLB", "KienLongBank"),
    ("970454", "VCCB", "VietCapitalBank"),
    ("970455", "IBK-HN", "IBKHN"),
    ("970456", "IBK-HCM", "IBKHCM"),
    ("970457", "WVN", "Woori"),
    ("970458", "UOB", "UnitedOverseas"),
    ("970462", "KBHN", "KookminHN"),
    ("970463", "KBHCM", "KookminHCM"),
    ("970466", "KEBHANAHCM", "KEBHanaHCM"),
    ("970467", "KEBHANAHN", "KEBHanaHN"),
    ("971005", "VTLMONEY", "ViettelMoney"),
    ("971011", "VNPTMONEY", "VNPTMoney"),
    ("971133", "PVDB", "PVcomBank Pay"),
    ("422589", "CIMB", "CIMB"),
    ("458761", "HSBC", "HSBC"),
    ("533948", "CITIBANK", "Citibank"),
    ("546034", "CAKE", "CAKE"),
    ("546035", "Ubank", "Ubank"),
    ("668888", "KBank", "KBank"),
    ("796500", "DBS", "DBSBank"),
    ("801011", "NHB HN", "Nonghyup"),
    ("963388", "TIMO", "Timo"),
    ("977777", "MAFC", "MAFC"),
    ("999888", "VBSP", "VBSP"),
)

NAPAS_BANKS: MappingProxyType[str, NapasBank] = MappingProxyType({row[0]: NapasBank(*row) for row in _ROWS})


def napas_bank(bank_bin: str) -> NapasBank | None:
    """The participant with this BIN, or None when NAPAS does not route to it."""
    return NAPAS_BANKS.get(bank_bin)
