"""`python -m creditops` runs the command line."""

from creditops.cli import main

raise SystemExit(main())
