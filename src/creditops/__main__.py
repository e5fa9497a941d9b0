"""`python -m creditops` runs the command line."""

from creditops.cli import process

process()
