"""Who gets paid, and what the ward's one-stop counter charges for.

The payees of the demo are the ward's People's Committee (its own fees), the city's
Department of Justice (judicial-record certificates, applied for at the ward counter),
the city budget (which pays the judicial-record fee in full for applications made in
the VNeID app), the parking operator, the bus operator and the transport wallet. Each
has a collection account at Vietcombank (where its QR payments land, so the day's
statement is one bank's) and a payout account at its own bank (where settlement pays it).

Fees and legal bases are those published for Hà Nội's wards (Thông tư 226/2016/TT-BTC
for certifications, 281/2016/TT-BTC for civil-status extracts, 244/2016/TT-BTC for
judicial records, Nghị quyết 06/2020/NQ-HĐND for the city's own fees).

The bus operator's ticket products are registered as ``PUT /v1/tickets/products`` registers
them (`put_ticket_product`), at the prices of Hà Nội's buses: 7,000 ₫ a ride on a route
under 15 km, 9,000 ₫ on the long routes, a day pass, and the monthly all-routes pass at
200,000 ₫ (100,000 ₫ for students).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.model.fees import FeeService, SubsidyRule
from domain.model.payees import BankAccount, PayeeKind
from domain.model.tickets import Concession, Product, ProductKind, Validity, ValidityUnit
from domain.services.fee_catalogue import put_fee_service
from domain.services.payees import put_payee
from domain.services.payments import CollectionAccount
from domain.services.ticket_products import put_ticket_product
from domain.services.unit_of_work import UseCase
from ops.demo.day import DemoDay
from settlement.payouts.pain001 import BankAccount as PayoutAccount

VIETCOMBANK = "970436"
WARD = "ubnd-hoan-kiem"
JUSTICE = "so-tu-phap-hn"
BUDGET = "ngan-sach-hn"
PARKING_OPERATOR = "hapark"
BUS_OPERATOR = "transerco"
WALLETS = "wallets"  # the service's default CITYSETTLE_WALLET_PAYEE
VNEID = "vneid"
COUNTER = "counter"
ONLINE = "online"


@dataclass(frozen=True, slots=True)
class DemoPayee:
    payee_id: str
    name: str
    kind: PayeeKind
    collection: BankAccount
    payout: BankAccount

    @property
    def collection_account(self) -> CollectionAccount:
        return CollectionAccount(self.collection.bank_bin, self.collection.account_no, self.collection.account_name)


# One row per payee: id, name, kind, then its collection account (at Vietcombank) and its
# payout account, each as (bank BIN, account number); both accounts carry the holder name.
_PAYEE_ROWS = (
    (WARD, "UBND phường Hoàn Kiếm", PayeeKind.AGENCY, "UBND PHUONG HOAN KIEM",
     "1017788990", ("970405", "1500201077889")),
    (JUSTICE, "Sở Tư pháp Hà Nội", PayeeKind.AGENCY, "SO TU PHAP HA NOI",
     "1023456789", ("970418", "12010000123456")),
    (BUDGET, "Ngân sách thành phố Hà Nội", PayeeKind.BUDGET, "KHO BAC NHA NUOC HA NOI",
     "0011000000019", ("970405", "9527100000019")),
    (PARKING_OPERATOR, "Công ty TNHH MTV Khai thác điểm đỗ xe Hà Nội", PayeeKind.PARKING_OPERATOR,
     "CONG TY KHAI THAC DIEM DO XE HN", "1030405060", ("970415", "113000456789")),
    (BUS_OPERATOR, "Tổng công ty Vận tải Hà Nội", PayeeKind.TRANSPORT_OPERATOR, "TONG CONG TY VAN TAI HA NOI",
     "1040506070", ("970418", "12210000654321")),
    (WALLETS, "Ví giao thông Hà Nội", PayeeKind.TRANSPORT_OPERATOR, "VI GIAO THONG HA NOI",
     "1050607080", (VIETCOMBANK, "1050607099")),
)  # fmt: skip
PAYEES = tuple(
    DemoPayee(
        payee_id,
        name,
        kind,
        BankAccount(VIETCOMBANK, collection_no, holder),
        BankAccount(payout_bin, payout_no, holder),
    )
    for payee_id, name, kind, holder, collection_no, (payout_bin, payout_no) in _PAYEE_ROWS
)
PAYEE = {payee.payee_id: payee for payee in PAYEES}
# The account settlement pays from (the city's own, as in ``citysettle settle --paying-account``).
PAYING_ACCOUNT = PayoutAccount(VIETCOMBANK, "0011009988776", "UBND THANH PHO HA NOI")

_VNEID_SUBSIDY = SubsidyRule(
    VNEID,
    100,
    BUDGET,
    "Nghị quyết HĐND TP Hà Nội: ngân sách hỗ trợ 100% lệ phí khi nộp hồ sơ qua ứng dụng VNeID",
)
_ONLINE_SUBSIDY = SubsidyRule(
    ONLINE, 50, BUDGET, "Nghị quyết HĐND TP Hà Nội: ngân sách hỗ trợ 50% lệ phí khi nộp hồ sơ trực tuyến"
)
SERVICES = (
    FeeService("CT-BANSAO", "Chứng thực bản sao từ bản chính", WARD, 2_000, "Thông tư 226/2016/TT-BTC"),
    FeeService("CT-CHUKY", "Chứng thực chữ ký", WARD, 10_000, "Thông tư 226/2016/TT-BTC"),
    FeeService("CT-HOPDONG", "Chứng thực hợp đồng, giao dịch", WARD, 50_000, "Thông tư 226/2016/TT-BTC"),
    FeeService("HT-TRICHLUC", "Cấp bản sao trích lục hộ tịch", WARD, 8_000, "Thông tư 281/2016/TT-BTC"),
    FeeService(
        "HT-HONNHAN",
        "Cấp giấy xác nhận tình trạng hôn nhân",
        WARD,
        15_000,
        "Nghị quyết 06/2020/NQ-HĐND TP Hà Nội",
    ),
    FeeService(
        "XD-GPXD",
        "Cấp giấy phép xây dựng nhà ở riêng lẻ",
        WARD,
        75_000,
        "Nghị quyết 06/2020/NQ-HĐND TP Hà Nội",
    ),
    FeeService(
        "LLTP-01",
        "Cấp phiếu lý lịch tư pháp",
        JUSTICE,
        200_000,
        "Thông tư 244/2016/TT-BTC",
        (_VNEID_SUBSIDY, _ONLINE_SUBSIDY),
    ),
    FeeService(
        "LLTP-02",
        "Cấp phiếu lý lịch tư pháp (sinh viên, người có công)",
        JUSTICE,
        100_000,
        "Thông tư 244/2016/TT-BTC",
        (_VNEID_SUBSIDY,),
    ),
)
# How often each service is asked for at the counter on a weekday (weights).
DEMAND = {
    "CT-BANSAO": 38,
    "CT-CHUKY": 14,
    "CT-HOPDONG": 6,
    "HT-TRICHLUC": 12,
    "HT-HONNHAN": 6,
    "XD-GPXD": 2,
    "LLTP-01": 18,
    "LLTP-02": 4,
}


_RIDE = Validity(ValidityUnit.MINUTES, 90)  # long enough to finish the ride with the ticket valid
_SINGLE, _DAY, _MONTH = ProductKind.SINGLE_RIDE, ProductKind.DAY_PASS, ProductKind.MONTHLY_PASS
_FULL, _STUDENT = Concession.NONE, Concession.STUDENT
# Product(code, kind, concession, name, price, validity, passback minutes, activate within days)
TICKET_PRODUCTS = (
    Product("LUOT", _SINGLE, _FULL, "Vé lượt, tuyến dưới 15 km", 7_000, _RIDE, 1, 30),
    Product("LUOT-DAI", _SINGLE, _FULL, "Vé lượt, tuyến từ 25 km", 9_000, _RIDE, 1, 30),
    Product("NGAY", _DAY, _FULL, "Vé ngày, liên tuyến", 30_000, Validity(ValidityUnit.SERVICE_DAYS, 1), 20, 30),
    Product("THANG", _MONTH, _FULL, "Vé tháng liên tuyến", 200_000, Validity(ValidityUnit.SERVICE_DAYS, 30), 20, 30),
    Product(
        "THANG-HSSV",
        _MONTH,
        _STUDENT,
        "Vé tháng liên tuyến, học sinh sinh viên",
        100_000,
        Validity(ValidityUnit.SERVICE_DAYS, 30),
        20,
        30,
    ),
)
TICKET_PRODUCT = {product.code: product for product in TICKET_PRODUCTS}
# How often each is bought on a weekday (weights).
TICKET_DEMAND = {"LUOT": 48, "LUOT-DAI": 14, "NGAY": 22, "THANG": 10, "THANG-HSSV": 6}


def payee_use_cases(day: DemoDay) -> list[UseCase]:
    return [
        put_payee(
            payee_id=p.payee_id,
            name=p.name,
            kind=p.kind,
            collection_account=p.collection,
            payout_account=p.payout,
            at=day.set_up_at,
        )
        for p in PAYEES
    ]


def catalogue_use_cases(day: DemoDay) -> list[UseCase]:
    return [put_fee_service(service, day.set_up_at) for service in SERVICES]


def ticket_product_use_cases(day: DemoDay) -> list[UseCase]:
    return [put_ticket_product(product, BUS_OPERATOR, True, day.set_up_at) for product in TICKET_PRODUCTS]
