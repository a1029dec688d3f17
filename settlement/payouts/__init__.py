"""Settlement of payees: what each payee is owed per business day (`calendar`,
`payables`, `claims`), the batches that pay it (`batches`, `payout_book`, `use_cases`,
`day_close`) and the pain.001 payout instructions sent to the bank (`pain001`,
`payout_files`)."""
