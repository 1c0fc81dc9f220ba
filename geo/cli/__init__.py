"""The ``hetu`` command line (the application layer: nothing imports it).

Importing this package stays light: commands import the library they need
when they run, so ``hetu --help`` answers at once.
"""

from __future__ import annotations

from geo.cli.main import cli, main

__all__ = ["cli", "main"]
