"""CI runs the notebook top to bottom, with a few training steps, so it cannot rot."""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "learn-gans.ipynb"


def outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.append(str(out.get("data", {}).get("text/markdown", "")))
    return "".join(parts)


@pytest.mark.slow
def test_notebook_runs_top_to_bottom(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOCOLOR_NOTEBOOK_STEPS", "4")
    monkeypatch.setenv("AUTOCOLOR_NOTEBOOK_DIR", str(tmp_path))
    monkeypatch.delenv("AUTOCOLOR_PHOTOS", raising=False)  # scikit-image's sample photos: runs anywhere
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    text = "".join(outputs_text(c) for c in code)
    assert "4 steps per model" in text
    assert "l1-gan: 4 steps" in text and "l1-only: 4 steps" in text
    assert "| gray |" in text and "| L1 + GAN |" in text and "| L1 only |" in text
    pictures = sum(
        bool({"image/png", "image/jpeg"} & set(out.get("data", {})))
        for c in code
        for out in c.get("outputs", [])
    )
    assert pictures >= 6  # photos, L/ab, live curves, samples, comparison gallery, own photo
    for run in ("l1-gan", "l1-only"):
        assert (tmp_path / run / "generator" / "model.safetensors").is_file()
    assert (tmp_path / "l1-gan" / "report.html").is_file() and (tmp_path / "l1-gan" / "curves.png").is_file()


def test_committed_notebook_shows_its_outputs_and_stays_small():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("outputs") for c in code), "commit the notebook executed, with its outputs"
    assert NOTEBOOK.stat().st_size < 3 * 1024 * 1024
