from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_walkthrough.ipynb"


def test_walkthrough_runs_and_shows_its_results(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs
    )
    assert "EPSG:4547" in text and "gb18030" in text  # the decisions are shown
    assert "inside" in text and "straddles" in text  # the matching result
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("leaflet" in h.lower() or "folium" in h.lower() for h in html)  # the inline map
