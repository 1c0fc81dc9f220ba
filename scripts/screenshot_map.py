"""Screenshot a Hetu map in headless Chromium, for the README.

Leaflet is taken from the installed XStatic-Leaflet package (a dev dependency)
instead of the CDN, so the page renders on a machine without internet; the
other CDN assets folium links (jQuery, Bootstrap, icon fonts) are not needed
for a still picture and are left out of the temporary copy.

    python scripts/screenshot_map.py out/demo/map.html docs/demo-map.png
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import xstatic.pkg.leaflet as leaflet

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


def local_copy(html: str) -> str:
    """Point Leaflet at the local package and drop the other CDN assets."""
    base = Path(leaflet.BASE_DIR).as_uri()
    html = re.sub(r'src="https://[^"]*/leaflet\.js"', f'src="{base}/leaflet.js"', html)
    html = re.sub(r'href="https://[^"]*/leaflet\.css"', f'href="{base}/leaflet.css"', html)
    html = re.sub(r'<script src="https://[^"]*"></script>', "", html)
    return re.sub(r'<link rel="stylesheet" href="https://[^"]*"/>', "", html)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--size", default="1400,900", help="window size, W,H")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("chromium not found: apt-get install chromium")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "map.html"
        page.write_text(local_copy(args.html.read_text(encoding="utf-8")), encoding="utf-8")
        subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile",
             f"--window-size={args.size}", "--virtual-time-budget=5000",
             f"--screenshot={args.png.resolve()}", page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    print(f"screenshot written to {args.png}")


if __name__ == "__main__":
    main()
