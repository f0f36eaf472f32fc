"""tariffcalc."""
