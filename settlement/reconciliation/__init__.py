"""Reconciliation: bank statements against the ledger, every line and item categorised
(`matching`, its stages and book), the runs recorded as events with their resolutions
(`runs`, `use_cases`, `statement_runs`) and the reports finance reads (`reports`)."""
