"""``python -m tariffcalc`` runs the command line."""

from tariffcalc.app.cli import main

main()
