"""``python -m listening``."""

from listening.cli import main

main()
