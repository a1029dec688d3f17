"""The matching stages, strongest evidence first, one module each with the keys it reads
off a statement line. `settlement.reconciliation.matching` runs them in this order per
bank account (`settlement.reconciliation.match_accounts.Account`):

1. `ids`: bank ids, EndToEndId, UETR, batch ids (and ledger items booked twice);
2. `reference`: our payment reference in the line's texts, whole or cut short;
3. `amount_date`: the same amount within the date window;
4. `ledger_batch`: the total of one of our batches;
5. `subset_sum`: the open items of a bank batch line's day that add up to it;
6. `leftovers`: what is still open, a duplicate or missing on the other side;
7. `resolved`: cases resolved by an earlier run, with what their resolution booked.

Each stage only looks at lines and items still open, so a line matched by its bank id is
never re-matched by amount. Lines are visited in statement order and candidates in
index order, which makes every choice deterministic.
"""
