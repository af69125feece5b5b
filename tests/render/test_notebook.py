"""notebooks/review.ipynb is stored without outputs and runs top to bottom on an analysis folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "review.ipynb"


def test_notebook_is_stored_without_outputs():
    nb = json.loads(NOTEBOOK.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None


def _run(folder: Path, tmp_path: Path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("pandas")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    env_before = os.environ.get("MOVESCREEN_ANALYSIS_DIR")
    os.environ["MOVESCREEN_ANALYSIS_DIR"] = str(folder)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    try:
        client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                         resources={"metadata": {"path": str(tmp_path)}})
        client.execute()
    finally:
        if env_before is None:
            os.environ.pop("MOVESCREEN_ANALYSIS_DIR", None)
        else:
            os.environ["MOVESCREEN_ANALYSIS_DIR"] = env_before
    return nb


def _outputs(nb) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


@pytest.mark.model
@pytest.mark.slow
def test_notebook_runs_on_the_example_analysis(rendered_rich, rich_folder, tmp_path):
    nb = _run(rich_folder, tmp_path)
    outs = _outputs(nb)
    assert not [o for o in outs if o.get("output_type") == "error"]
    images = [o for o in outs if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # angle per rep, rep comparison, key frames
    text = json.dumps(outs)
    assert "rep 1" in text and "plotting: " in text


@pytest.mark.model
@pytest.mark.slow
def test_notebook_runs_on_a_folder_without_reps(no_reps_folder, tmp_path):
    nb = _run(no_reps_folder, tmp_path)
    assert not [o for o in _outputs(nb) if o.get("output_type") == "error"]
