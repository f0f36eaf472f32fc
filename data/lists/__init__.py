"""Bundled product lists (HS prefixes) referenced by scenario files."""
