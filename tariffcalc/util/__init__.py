"""Small utilities with no domain knowledge, usable by every layer: atomic file writing, progress
reporting on stderr, hashing and spreadsheet-safe text."""
