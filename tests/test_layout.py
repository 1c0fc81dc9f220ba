"""The package's face: light ``import geo``, the notebook names, old import paths kept."""

import subprocess
import sys
import warnings

import pytest

import geo


def _fresh(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_geo_and_geo_cli_stay_light():
    code = (
        "import sys, geo, geo.cli; "
        "print(sorted(m for m in ('pandas', 'geopandas', 'shapely') if m in sys.modules))"
    )
    assert _fresh(code) == "[]"


def test_notebook_names_are_on_the_package():
    names = dir(geo)
    for name in ("match_patches", "Ledger", "status_map", "read_layer", "patches_from_file",
                 "export_ledger", "escalate", "errors", "ingest_file"):  # fmt: skip
        assert name in names
    from geo.ledger.store import Ledger
    from geo.matching.engines import match_patches

    assert geo.Ledger is Ledger
    assert geo.match_patches is match_patches
    assert issubclass(geo.errors.SettingsError, geo.errors.HetuError)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = geo.nothing_here


def test_contract_import_paths():
    from geo.maps import status_map
    from geo.matching import match_patches

    assert callable(match_patches) and callable(status_map)
    assert match_patches.__module__ == "geo.matching.engines"


@pytest.mark.parametrize(
    ("old", "name", "new"),
    [
        ("geo.store", "Ledger", "geo.ledger.store"),
        ("geo.store", "as_time", "geo.clock"),
        ("geo.layers", "ingest_file", "geo.ledger.loading"),
        ("geo.layers", "patches_from_file", "geo.ingest.readers"),
        ("geo.notices", "print_pdfs", "geo.reports.pdf"),
        ("geo.assessment", "AssessmentRule", "geo.policy.assessment"),
        ("geo.chain", "chief_chain", "geo.ledger.chiefs"),
    ],
)
def test_old_flat_modules_forward_with_a_warning(old, name, new):
    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = __import__(old, fromlist=[name])
    value = getattr(module, name)
    assert value is getattr(__import__(new, fromlist=[name]), name)
    messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert any(old in m and new in m for m in messages), messages
    with pytest.raises(AttributeError, match="no attribute"):
        _ = module.no_such_name
