"""``python -m tariffcalc`` runs the command line."""

from tariffcalc.cli import main

main()
