"""The clients offices open Hetu's files in, for the tests: LibreOffice and GDAL's validator.

Both come from Debian (``libreoffice-calc``, ``libreoffice-writer``, ``python3-gdal``,
installed by ``.ci/run``). Without them a test is skipped with the reason, unless
``HETU_REQUIRE_OFFICE=1`` (CI), where a missing client fails it instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

#: Where Debian's python3-gdal puts GDAL's GeoPackage validator.
VALIDATORS = (
    Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py"),
    Path("/usr/share/doc/python3-gdal/examples/validate_gpkg.py"),
)


def _missing(what: str) -> None:
    reason = f"{what} is not installed (Debian: see the package list in .ci/run)"
    if os.environ.get("HETU_REQUIRE_OFFICE") == "1":
        pytest.fail(f"HETU_REQUIRE_OFFICE=1 but {reason}")
    pytest.skip(reason)


def validator() -> tuple[str, Path]:
    """The Python to run GDAL's ``validate_gpkg.py`` with, and the script (or skip/fail)."""
    for script in VALIDATORS:
        if script.is_file():
            # Debian's own Python also has osgeo, whose extra checks the script then runs
            debian = Path("/usr/bin/python3")
            return (str(debian) if debian.is_file() else sys.executable), script
    _missing("GDAL's validate_gpkg.py (python3-gdal)")
    raise AssertionError  # unreachable: skipped or failed


def validate_gpkg(path: Path) -> list[str]:
    """What GDAL's validator finds in a GeoPackage, every check run (empty: valid).

    Warnings count as errors, and the extra checks beyond the standard are run too.
    """
    python, script = validator()
    cmd = [python, str(script), "-k", "--extra", "--warning-as-error", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    if done.returncode and not lines:
        lines = [f"validate_gpkg.py exited with {done.returncode}"]
    return lines


def gdal_spatial_index(path: Path, table: str) -> None:
    """Let GDAL make its R-tree spatial index on a GeoPackage table, as QGIS does."""
    python, _script = validator()
    code = (
        "import sys; from osgeo import ogr; ds = ogr.Open(sys.argv[1], 1); ds.ExecuteSQL("
        "\"SELECT CreateSpatialIndex('\" + sys.argv[2] + \"', 'geom')\"); ds = None"
    )
    done = subprocess.run([python, "-c", code, str(path), table], capture_output=True, text=True)
    if done.returncode and "osgeo" in done.stderr:
        _missing("GDAL's Python bindings (python3-gdal)")
    assert done.returncode == 0, done.stderr


def soffice() -> str:
    """LibreOffice's ``soffice`` with Calc and Writer (or skip/fail)."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        _missing("LibreOffice (soffice)")
    program = Path(os.path.realpath(found)).parent
    for part, package in (("scalc", "libreoffice-calc"), ("swriter", "libreoffice-writer")):
        if not (program / part).exists():
            _missing(f"LibreOffice {package}")
    return str(found)


def convert_to_pdf(files: list[Path], out_dir: Path, *, profile: Path) -> tuple[str, float]:
    """Convert ``files`` to PDF in ``out_dir`` with one headless LibreOffice call.

    Returns
    -------
    (str, float)
        What LibreOffice printed, and the seconds the call took.

    Raises
    ------
    AssertionError
        If LibreOffice exits with an error.
    """
    cmd = [soffice(), f"-env:UserInstallation={profile.resolve().as_uri()}", "--headless",
           "--norestore", "--convert-to", "pdf", "--outdir", str(out_dir),
           *map(str, files)]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - start
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"soffice exited with {done.returncode}:\n{output}"
    return output, seconds
