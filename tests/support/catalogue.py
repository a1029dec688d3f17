"""A small fee catalogue in the shape the agencies publish."""

from __future__ import annotations

from domain.model.fees import FeeCatalogue
from domain.services.payments import CollectionAccount

TREASURY = CollectionAccount("970436", "0011004455667", "KHO BAC NHA NUOC HA NOI")

CATALOGUE = FeeCatalogue.from_dicts(
    [
        {
            "service_code": "TP-CT-01",
            "name": "Chứng thực bản sao từ bản chính",
            "agency_id": "so-tu-phap",
            "amount_vnd": 2_000,
            "legal_basis": "Thông tư 226/2016/TT-BTC",
        },
        {
            "service_code": "LLTP-01",
            "name": "Cấp phiếu lý lịch tư pháp",
            "agency_id": "so-tu-phap",
            "amount_vnd": 200_000,
            "legal_basis": "Thông tư 244/2016/TT-BTC",
            "subsidies": [
                {
                    "channel": "vneid",
                    "percent": 100,
                    "budget_id": "ngan-sach-ha-noi",
                    "legal_basis": "Nghị quyết HĐND TP Hà Nội: hỗ trợ 100% khi nộp qua VNeID",
                },
                {
                    "channel": "online",
                    "percent": 50,
                    "budget_id": "ngan-sach-ha-noi",
                    "legal_basis": "Nghị quyết HĐND TP Hà Nội: hỗ trợ 50% khi nộp trực tuyến",
                },
            ],
        },
    ]
)
