"""Source adapters: read trade-flow files of every supported kind into one canonical shape.

``tables`` reads the bytes of a file (CSV in any common encoding and delimiter, gzip, Parquet) into text
columns with the physical line of every row; ``cells`` reads the cells (money, HS codes, periods, country
names and codes); ``adapters`` recognises the layout (canonical, US Census, USITC DataWeb, UN Comtrade)
and maps it onto the canonical fields. Validation, the rejects ledger and reconciliation are in
:mod:`tariffcalc.read.flows`, the entry point.
"""

SOURCES = ("auto", "canonical", "census", "dataweb", "comtrade")
"""Values of ``--source``: ``auto`` recognises the layout from the header."""
UNITS = {"usd": 1.0, "thousands": 1e3, "millions": 1e6}
"""Values of ``--units``: multipliers from a file's amounts to US dollars."""
FIELDS = ("partner", "hs", "period", "value_usd", "reporter")
"""Canonical fields (the targets of ``--map their_column=field``)."""
REQUIRED = ("partner", "hs", "value_usd")
