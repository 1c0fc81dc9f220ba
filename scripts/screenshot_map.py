"""Screenshot a Hetu map in headless Chromium, for the README.

Given a ledger (``.gpkg``), the map is drawn with ``offline=True`` and no basemap,
so Leaflet and its plugin come inline from the XStatic packages and the page
needs no network at all. Given an HTML file, it is shot as it stands (make it
with ``hetu map LEDGER -o FILE --offline`` on a machine without internet).

    python scripts/screenshot_map.py out/demo/ledger.gpkg docs/demo-map.png \\
        --settings data/demo/hetu.toml
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from geo.demo import DEMO_AS_OF
from geo.labels import TEXT
from geo.ledger.store import open_ledger
from geo.maps import save_map, status_map
from geo.settings import load_settings

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def offline_page(
    ledger_path: Path, target: Path, *, as_of: str, basemap: str, settings: Path | None
) -> Path:
    """Draw the ledger's map offline into ``target``."""
    with open_ledger(ledger_path, settings=load_settings(settings)) as ledger:
        m = status_map(
            ledger.status_frame(as_of=as_of),
            ranges=ledger.segments(),
            tracks=ledger.tracks(),
            events=ledger.events(),
            links=ledger.links(),
            title=f"{ledger.settings.office_name} {TEXT['ledger']}",
            as_of=as_of,
            basemap=basemap,
            offline=True,
        )
    return save_map(m, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a ledger (.gpkg) or a saved map (.html)")
    parser.add_argument("png", type=Path)
    parser.add_argument("--size", default="1400,900", help="window size, W,H")
    parser.add_argument("--as-of", default=DEMO_AS_OF, help="date of the status (ledger only)")
    parser.add_argument("--basemap", default="none", help="basemap (ledger only)")
    parser.add_argument("--settings", type=Path, help="hetu.toml, for township names (ledger only)")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("chromium not found: apt-get install chromium")
    with tempfile.TemporaryDirectory() as tmp:
        if args.source.suffix.lower() == ".gpkg":
            page = offline_page(
                args.source,
                Path(tmp) / "map.html",
                as_of=args.as_of,
                basemap=args.basemap,
                settings=args.settings,
            )
        else:
            page = args.source.resolve()
            if re.search(r'<script[^>]+src="https?://', page.read_text(encoding="utf-8")):
                print("warning: the page links CDN scripts; without internet it stays blank "
                      "(save it with --offline)")  # fmt: skip
        subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile",
             f"--window-size={args.size}", "--virtual-time-budget=5000",
             f"--screenshot={args.png.resolve()}", page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    print(f"screenshot written to {args.png}")


if __name__ == "__main__":
    main()
