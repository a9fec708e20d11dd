"""`python -m horizon`: the command-line tool."""

from horizon.cli import main

if __name__ == "__main__":
    main()
