"""ISO 4217 minor units, and exact parsing of decimal amounts into integer minor units.

Bank statements carry amounts as decimal text ("322152.16", MT940 "1234,56", "300,").
They are turned into whole numbers of the currency's minor unit (cents for EUR, rappen
for CHF, đồng for VND) and never pass through ``float``. Text with more fractional
digits than the currency has is refused rather than rounded: a statement that says
"10.005 EUR" is wrong, and silently rounding it would hide that.

Fractional digits are counted as written, zeros included: "1.000 EUR" is refused, not
read as one euro, because in German or Vietnamese notation it means one thousand. For a
currency without minor units (VND) a ``.`` in the amount is refused outright: in
Vietnamese notation ``200.000`` is two hundred thousand đồng, and ``200.0`` is no
amount a bank writes. MT940's mandatory decimal comma (``150000,``) stays allowed,
with nothing after it.
"""

from __future__ import annotations

import re
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


_GROUPED: Final = re.compile(r"^\d{1,3}(\.\d{3})+$")  # 200.000 or 1.234.567: thousands grouped by points


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
    if digits == 0 and decimal_mark == "." and "." in text:
        raise AmountError(_no_minor_unit(text.strip(), currency))
    whole, mark, fraction = text.strip().partition(decimal_mark)
    if not whole:
        whole = "0" if mark and fraction else ""
    if not (whole.isascii() and whole.isdigit()) or (fraction and not (fraction.isascii() and fraction.isdigit())):
        raise AmountError(f"amount {text!r} is not a plain decimal number")
    if len(fraction) > digits:
        raise AmountError(
            f"amount {text!r} has {len(fraction)} decimals, more than {currency} has ({digits}); "
            f"if {decimal_mark!r} separates thousands here, write the amount without separators"
        )
    return int(whole + fraction.ljust(digits, "0"))


def _no_minor_unit(text: str, currency: str) -> str:
    grouped = text.replace(".", "") if _GROUPED.match(text) else None
    reading = f" (in Vietnamese notation {text} is {grouped} {currency}, not {text.split('.')[0]})" if grouped else ""
    return (
        f"amount {text!r} has a decimal point, but {currency} has no minor unit and the point is ambiguous"
        f"{reading}: write whole {currency} without separators{f', e.g. {grouped}' if grouped else ''}"
    )


def format_minor(amount_minor: int, currency: str) -> str:
    """Integer minor units back to plain decimal text, e.g. -537 CHF -> ``"-5.37"``."""
    digits = exponent(currency)
    sign = "-" if amount_minor < 0 else ""
    value = abs(amount_minor)
    if digits == 0:
        return f"{sign}{value}"
    whole, fraction = divmod(value, 10**digits)
    return f"{sign}{whole}.{fraction:0{digits}d}"
