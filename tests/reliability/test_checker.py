"""The checker itself: it must catch what it is there to catch (no service needed)."""

from __future__ import annotations

from typing import Any

from tests.reliability.checker import LogFacts, Verdict, build_model, check_log
from tests.reliability.history import ANSWERED, TIMEOUT, Attempt, History
from tests.reliability.model import ModelPayment, ReferenceModel

PAYMENT = {"id": "p1", "reference": "CSREF1", "amount_vnd": 200_000, "account_no": "0011004455667"}
INVOICE = {"invoice_no": "HS-1", "amount_vnd": 200_000, "payment": PAYMENT}
CREDIT = {"account_no": "0011004455667", "tx": "FT1", "amount_vnd": 200_000, "reference": "CSREF1"}


def acknowledged_run() -> tuple[History, dict[str, dict[str, Any]]]:
    """An invoice (its first try timed out) and the bank's credit of its payment."""
    history = History()
    issue = history.new("op1", "invoice", "POST", "/v1/fees/invoices", "k1")
    issue.attempts += [Attempt(0, 1, TIMEOUT), Attempt(1, 2, ANSWERED, 201, INVOICE, replayed=True)]
    credit = history.new("op2", "credit", "POST", "/v1/banks/payos/notifications", None)
    credit.attempts.append(Attempt(3, 4, ANSWERED, 200, {"success": True}))
    return history, {"op2": CREDIT}


def logged(**changes: Any) -> LogFacts:
    """The log as it must be for `acknowledged_run`."""
    facts = LogFacts()
    facts.invoices_by_payer["Payer op1"] = 1
    facts.credits_by_tx["FT1"] = facts.transactions_by_tx["FT1"] = 1
    facts.credited_payments["p1"] = 1
    facts.debits["bank:970436:0011004455667"] = 200_000
    facts.credits["payable:agency:stp-hn"] = 200_000
    for name, value in changes.items():
        setattr(facts, name, value)
    return facts


def verdict_of(facts: LogFacts) -> Verdict:
    history, params = acknowledged_run()
    verdict = Verdict("test")
    check_log(history, params, build_model(history, params, verdict), facts, verdict)
    return verdict


def test_a_log_that_holds_each_effect_once_passes() -> None:
    verdict = verdict_of(logged())
    assert verdict.problems == []
    assert (verdict.lost, verdict.applied_twice, verdict.imbalance_vnd) == (0, 0, 0)


def test_an_acknowledged_invoice_missing_from_the_log_is_lost() -> None:
    facts = logged()
    del facts.invoices_by_payer["Payer op1"]
    assert verdict_of(facts).lost == 1


def test_a_payment_credited_more_often_than_acknowledged_is_applied_twice_and_its_money_does_not_add_up() -> None:
    facts = logged()
    facts.credited_payments["p1"] = 2
    facts.debits["bank:970436:0011004455667"] = facts.credits["payable:agency:stp-hn"] = 400_000
    verdict = verdict_of(facts)
    assert verdict.applied_twice == 1
    assert any("account payable:agency:stp-hn" in p for p in verdict.problems)


def test_an_unbalanced_ledger_is_reported_in_vnd() -> None:
    facts = logged()
    facts.credits["payable:agency:stp-hn"] = 199_000
    assert verdict_of(facts).imbalance_vnd == 1_000


def test_an_effect_no_operation_asked_for_is_reported() -> None:
    facts = logged()
    facts.invoices_by_payer["Payer op9"] = 1
    assert any("no operation asked for it" in p for p in verdict_of(facts).problems)


def test_the_model_moves_a_repeated_bank_notice_once() -> None:
    model = ReferenceModel()
    model.invoice_issued("HS-1", ModelPayment("p1", "CSREF1", 200_000, "bank:970436:1", "payable:agency:a"))
    assert model.bank_credit("970436", "1", "FT1", 200_000, "CSREF1") == "paid"
    assert model.bank_credit("970436", "1", "FT1", 200_000, "CSREF1") == "duplicate"
    assert model.bank_credit("970436", "1", "FT2", 200_000, "CSREF1") == "overpaid"  # already paid
    assert model.bank_credit("970436", "1", "FT3", 5_000, "no such ref") == "suspense"
    assert model.debits["bank:970436:1"] == 405_000
    assert (model.credits["payable:agency:a"], model.credits["refunds"], model.credits["suspense"]) == (
        200_000,
        200_000,
        5_000,
    )
    assert model.invoices["HS-1"] == "paid"
    assert model.imbalance_vnd() == 0
