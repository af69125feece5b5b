"""Reading an analysis folder back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from movescreen.errors import InputError
from movescreen.render import load_analysis_folder, read_angles_csv


def test_missing_folder_or_report_is_a_clear_input_error(tmp_path):
    with pytest.raises(InputError, match="No analysis folder"):
        load_analysis_folder(tmp_path / "nope")
    with pytest.raises(InputError, match="no report.json"):
        load_analysis_folder(tmp_path)
    (tmp_path / "report.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_analysis_folder(tmp_path)


def test_report_only_folder_has_empty_defaults(tmp_path):
    (tmp_path / "report.json").write_text(json.dumps({"input": {"fps": 25}}))
    f = load_analysis_folder(tmp_path)
    assert f.reps == [] and f.findings == [] and f.angles == {} and f.landmarks is None
    assert f.fps == 25.0
    assert np.isnan(f.angle_at("left_knee_flexion_image_deg", 3))


def test_angles_csv_empty_cells_are_nan(tmp_path):
    p = tmp_path / "angles.csv"
    p.write_text("frame,time_s,left_knee_flexion_image_deg,view\n0,0.0,12.5,side\n1,0.04,,side\n")
    cols = read_angles_csv(p)
    assert cols["frame"].tolist() == [0, 1]
    assert cols["left_knee_flexion_image_deg"][0] == 12.5
    assert np.isnan(cols["left_knee_flexion_image_deg"][1])
    assert cols["view"].tolist() == ["side", "side"]


def test_angles_csv_without_frame_column_is_rejected(tmp_path):
    p = tmp_path / "angles.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="no 'frame' column"):
        read_angles_csv(p)
