"""`horizon`: the command-line tool for reading event histories (events, state, tail, diff).

Run it as `horizon …` (installed entry point) or `python -m horizon …`. Importing `horizon` does not import it.
"""

from horizon.cli.app import main

__all__ = ["main"]
