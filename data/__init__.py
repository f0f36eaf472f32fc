"""Bundled datasets of tariffcalc (see data/README.md for provenance)."""
