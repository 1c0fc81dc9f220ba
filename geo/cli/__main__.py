"""``python -m geo.cli``: the ``hetu`` command line without its console script."""

from __future__ import annotations

from geo.cli.main import main

if __name__ == "__main__":  # pragma: no cover
    main()
