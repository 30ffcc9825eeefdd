"""Pulumi entry point: the program is `program.build()` (program.py), so that the
tests can run the same function under mocks."""

import program

program.build()
