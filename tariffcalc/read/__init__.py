"""Reading flows: every input, in chunks, through one set of validators.

``tables`` reads the bytes of a file a chunk at a time (CSV in any common encoding, delimiter and line
end, gzip with a cap on its decompressed size, Parquet), ``cells`` holds the per-value validators (money,
HS codes, periods, partner names and codes, reporters), ``adapters`` recognises the layout (canonical, US
Census, USITC DataWeb, UN Comtrade) and maps each chunk onto the canonical fields, ``stream`` is the one
reader that applies them to every chunk and sums what it accepts, and ``flows`` is the entry point
(:func:`tariffcalc.read.flows.load_flows`): flow tables, the rejects ledger and the reconciliation.
"""

SOURCES = ("auto", "canonical", "census", "dataweb", "comtrade")
"""Values of ``--source``: ``auto`` recognises the layout from the header."""
UNITS = {"usd": 1.0, "thousands": 1e3, "millions": 1e6}
"""Values of ``--units``: multipliers from a file's amounts to US dollars."""
FIELDS = ("partner", "hs", "period", "value_usd", "reporter")
"""Canonical fields (the targets of ``--map their_column=field``)."""
REQUIRED = ("partner", "hs", "value_usd")
