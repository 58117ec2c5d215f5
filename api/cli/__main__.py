"""`python -m api.cli …`: the `zhunru` command line, as process-level tests and operators run it
without the installed script."""

from api.cli import main

main()
