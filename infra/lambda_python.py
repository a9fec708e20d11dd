"""The Python version the functions run on in Lambda, as plain text so the Makefile can read it cheaply.

The tests run on the developer's (and CI's) Python, 3.11 or later. `make typecheck` also checks the
runtime packages against this version's standard library with mypy, and the bundler installs wheels built
for it, so a difference between the two Pythons fails before a deploy (docs/deploy.md, "Runtime").
"""

LAMBDA_PYTHON = "3.14"
