"""The README's Python example runs as written, on the demo county's files."""

import re
import shutil

import folium
import pandas as pd
from conftest import ROOT


def test_readme_library_example_runs_on_the_demo(demo_run, tmp_path, monkeypatch):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "the README has no Python example"
    shutil.copytree(demo_run.data.settings.parent, tmp_path, dirs_exist_ok=True)
    shutil.copy(demo_run.ledger, tmp_path / "ledger.gpkg")
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), scope)
    assert isinstance(scope["frame"], pd.DataFrame) and len(scope["frame"]) > 0
    assert len(scope["patches"]) > 0
    assert isinstance(scope["geo"].status_map(scope["frame"]), folium.Map)
