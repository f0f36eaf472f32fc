"""Bundled timeline files (dated scenario regimes)."""
