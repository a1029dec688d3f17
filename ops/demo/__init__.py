"""``citysettle demo``: a realistic, deterministic day of a Hanoi ward, seeded into an empty
store through the same use cases the HTTP API calls.

- `day`: the demo day (a fixed, labelled date), its clock and its seeded randomness;
- `catalogue`: payees with their bank accounts, the ward counter's fee catalogue;
- `parking`: three lots and their tariffs, the day's sessions and pre-bookings;
- `people`: the API clients of every role and their key files, the bank connector;
- `traffic`: the day's invoices, payments, bank credits, tickets and rides;
- `bank`: what the bank booked, and the camt.053 statement of the day it writes;
- `seed`: the whole day in order, then reconciliation and settlement, and its summary.
"""
