"""ISO 4217 minor units, and exact parsing of decimal amounts into integer minor units.

Bank statements carry amounts as decimal text ("322152.16", MT940 "1234,56", "300,").
They are turned into whole numbers of the currency's minor unit (cents for EUR, rappen
for CHF, đồng for VND) and never pass through ``float``. Text with more fractional
digits than the currency has is refused rather than rounded: a statement that says
"10.005 EUR" is wrong, and silently rounding it would hide that.
"""

from __future__ import annotations

from typing import Final

# Currencies whose minor unit is not 2 (ISO 4217 list, current edition). The code lists
# stay strings: one code per line would make this a 200-line module.
_EXPONENT_NOT_2: Final = {
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0),  # noqa: SIM905
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),  # noqa: SIM905
    **dict.fromkeys("CLF UYW".split(), 4),  # noqa: SIM905
}
_EXPONENT_2: Final = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP
    BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT
    LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO
    NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS
    SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD
    XCG YER ZAR ZMW ZWG ZWL""".split()  # noqa: SIM905
)


class AmountError(ValueError):
    """An amount or currency in a statement cannot be read exactly."""


def exponent(currency: str) -> int:
    """Number of decimal places of ``currency``'s minor unit (VND 0, EUR 2, KWD 3)."""
    found = _EXPONENT_NOT_2.get(currency)
    if found is not None:
        return found
    if currency in _EXPONENT_2:
        return 2
    raise AmountError(f"unknown currency {currency!r} (not an ISO 4217 code)")


def to_minor(text: str, currency: str, decimal_mark: str = ".") -> int:
    """``"322152.16"`` CHF -> 32215216. Unsigned: statements carry the sign separately."""
    digits = exponent(currency)
    if text.isdigit() and text.isascii():  # the usual case, e.g. "200000" VND
        return int(text + "0" * digits)
    whole, mark, fraction = text.strip().partition(decimal_mark)
    if not whole:
        whole = "0" if mark and fraction else ""
    if not (whole.isascii() and whole.isdigit()) or (fraction and not (fraction.isascii() and fraction.isdigit())):
        raise AmountError(f"amount {text!r} is not a plain decimal number")
    fraction = fraction.rstrip("0")
    if len(fraction) > digits:
        raise AmountError(f"amount {text!r} has more decimals than {currency} allows ({digits})")
    return int(whole + fraction.ljust(digits, "0")) if digits else int(whole)


def format_minor(amount_minor: int, currency: str) -> str:
    """Integer minor units back to plain decimal text, e.g. -537 CHF -> ``"-5.37"``."""
    digits = exponent(currency)
    sign = "-" if amount_minor < 0 else ""
    value = abs(amount_minor)
    if digits == 0:
        return f"{sign}{value}"
    whole, fraction = divmod(value, 10**digits)
    return f"{sign}{whole}.{fraction:0{digits}d}"
