"""Fuzzing the input boundaries: whatever the bytes, a MovescreenError sentence, never a traceback.

Three boundaries are fuzzed with hypothesis (seeded, derandomized so CI is repeatable):
the landmarks.csv reader, the configuration loader, and the video opener on byte-flipped copies
of the example clip's header.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from movescreen.config import DEFAULTS_PATH, load_config
from movescreen.errors import MovescreenError
from movescreen.landmarks import LANDMARK_NAMES as NAMES
from movescreen.sinks import read_landmarks_csv
from tests.conftest import EXAMPLE_VIDEO

FUZZ = settings(
    max_examples=150, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

COLUMNS = ["frame", "time_s", "landmark", "x_px", "y_px", "z", "visibility", "presence",
           "world_x_m", "world_y_m", "world_z_m"]


def _is_a_sentence(e: BaseException) -> None:
    msg = str(e)
    assert isinstance(e, MovescreenError), f"{type(e).__name__} escaped: {msg}"
    assert msg and "\n" not in msg and "Traceback" not in msg, msg
    assert msg.rstrip()[-1] in ".)?!", msg


def _valid_rows(n_frames: int = 3) -> list[list[str]]:
    rows = []
    for fr in range(n_frames):
        for j, name in enumerate(NAMES):
            rows.append([str(fr), f"{fr / 30:.4f}", name, f"{100 + j}", f"{200 + j}", "0.0", "0.9", "0.9",
                         "0.1", "0.2", "0.3"])
    return rows


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


cell = st.one_of(
    st.sampled_from(["", "nan", "inf", "-inf", "-1", "0", "1e308", "1e400", "abc", "1.5", "2", " ",
                     "nose", "left_knee", "NaN", "0x10", "1_000", "-0"]),
    st.text(max_size=8),
)


@st.composite
def mutated_csv(draw) -> str:
    header = list(COLUMNS)
    rows = _valid_rows(draw(st.integers(1, 3)))
    for _ in range(draw(st.integers(0, 6))):
        what = draw(st.sampled_from(["cell", "drop_col", "short_row", "long_row", "dup", "shuffle", "header"]))
        if what == "cell" and rows:
            r = draw(st.integers(0, len(rows) - 1))
            c = draw(st.integers(0, len(header) - 1))
            rows[r][c] = draw(cell)
        elif what == "drop_col" and len(header) > 1:
            c = draw(st.integers(0, len(header) - 1))
            header.pop(c)
            rows = [r[:c] + r[c + 1:] for r in rows]
        elif what == "short_row" and rows:
            r = draw(st.integers(0, len(rows) - 1))
            rows[r] = rows[r][: draw(st.integers(0, 4))]
        elif what == "long_row" and rows:
            rows[draw(st.integers(0, len(rows) - 1))] += ["extra", "cells"]
        elif what == "dup" and rows:
            rows.append(list(rows[draw(st.integers(0, len(rows) - 1))]))
        elif what == "shuffle":
            rows = draw(st.permutations(rows))
        elif what == "header":
            header[draw(st.integers(0, len(header) - 1))] = draw(cell)
    return _csv(header, rows)


@FUZZ
@given(text=mutated_csv())
def test_landmarks_csv_reader_gives_a_sequence_or_a_sentence(tmp_path, text):
    p = tmp_path / "landmarks.csv"
    p.write_text(text, encoding="utf-8")
    try:
        seq = read_landmarks_csv(p)
    except Exception as e:  # noqa: BLE001 - the property is about what escapes
        _is_a_sentence(e)
    else:
        assert seq.image_xyz.shape[1:] == (33, 3) and seq.fps > 0


@FUZZ
@given(data=st.binary(max_size=400))
def test_landmarks_csv_reader_on_raw_bytes(tmp_path, data):
    p = tmp_path / "landmarks.csv"
    p.write_bytes(data)
    try:
        read_landmarks_csv(p)
    except Exception as e:  # noqa: BLE001
        _is_a_sentence(e)


@FUZZ
@given(side=st.sampled_from(["report.json"]), payload=st.one_of(
    st.just(b"[1, 2]"), st.just(b'{"input": 3}'), st.just(b'{"input": {"width": "x", "fps": -1}}'),
    st.just(b"\xff\xfe"), st.binary(max_size=40)))
def test_landmarks_csv_with_a_bad_report_json_beside_it(tmp_path, side, payload):
    p = tmp_path / "landmarks.csv"
    p.write_text(_csv(COLUMNS, _valid_rows()))
    (tmp_path / side).write_bytes(payload)
    try:
        read_landmarks_csv(p)
    except Exception as e:  # noqa: BLE001
        _is_a_sentence(e)


toml_value = st.one_of(
    st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6), st.lists(st.sampled_from(["side", "front", "top", "squat", "hinge", 1]), max_size=3),
)


def _toml_literal(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if v != v else ("inf" if v == float("inf") else "-inf" if v == float("-inf") else repr(v))
    if isinstance(v, str):
        return '"' + v.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_literal(x) for x in v) + "]"
    return str(v)


RULE_IDS = ["heel_lift", "knee_valgus", "lumbar_rounding", "no_such_rule"]
KEYS = ["enabled", "views", "movements", "unit", "direction", "min_confidence", "note", "caution", "flag",
        "min_duration_s", "toe_on_floor_max", "flagg"]


@FUZZ
@given(entries=st.lists(st.tuples(st.sampled_from(RULE_IDS), st.sampled_from(KEYS), toml_value), max_size=5),
       schema=st.one_of(st.none(), toml_value))
def test_config_loader_gives_a_config_or_a_sentence(tmp_path, entries, schema):
    lines = [] if schema is None else [f"schema = {_toml_literal(schema)}"]
    by_rule: dict[str, dict[str, object]] = {}
    for rule, key, value in entries:
        by_rule.setdefault(rule, {})[key] = value
    for rule, kv in by_rule.items():
        lines.append(f"[{rule}]")
        lines += [f"{k} = {_toml_literal(v)}" for k, v in kv.items()]
    p = tmp_path / "fuzz.toml"
    p.write_text("\n".join(lines) + "\n")
    try:
        cfg = load_config(p)
    except Exception as e:  # noqa: BLE001
        _is_a_sentence(e)
        assert str(p) in str(e)
    else:
        for rc in cfg.rules.values():  # what loads is typed
            assert isinstance(rc.enabled, bool) and all(np.isfinite(t) for _, t in rc.thresholds)
            assert 0 <= rc.min_confidence <= 1


@FUZZ
@given(data=st.binary(max_size=300))
def test_config_loader_on_raw_bytes(tmp_path, data):
    p = tmp_path / "fuzz.toml"
    p.write_bytes(data)
    try:
        load_config(p)
    except Exception as e:  # noqa: BLE001
        _is_a_sentence(e)


@FUZZ
@given(data=st.binary(min_size=1, max_size=200).map(lambda b: DEFAULTS_PATH.read_bytes()[: len(b) * 40] + b))
def test_config_loader_on_a_defaults_file_cut_and_garbled(tmp_path, data):
    p = tmp_path / "fuzz.toml"
    p.write_bytes(data)
    try:
        load_config(p)
    except Exception as e:  # noqa: BLE001
        _is_a_sentence(e)


# this clip's boxes: ftyp (0-31), free, mdat (40-507302), moov (the last 1,038 bytes)
HEADER_POSITIONS = st.one_of(st.integers(0, 63), st.integers(-1038, -1), st.integers(64, 4095))


@pytest.fixture(scope="module")
def clip_bytes() -> bytes:
    if not EXAMPLE_VIDEO.is_file():
        pytest.skip(f"example clip missing: {EXAMPLE_VIDEO}")
    return EXAMPLE_VIDEO.read_bytes()


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(flips=st.lists(st.tuples(HEADER_POSITIONS, st.integers(1, 255)), min_size=1, max_size=24),
       cut=st.one_of(st.none(), st.integers(0, 20000), st.integers(-1100, -1)))
def test_byte_flipped_video_header_opens_or_gives_a_sentence(tmp_path, clip_bytes, flips, cut):
    """Flip bytes in the headers (ftyp + mdat start at the front, the moov box at the end of
    this clip), sometimes truncate; then open and decode a few frames."""
    from movescreen.sources import open_source

    data = bytearray(clip_bytes if cut is None else clip_bytes[:cut])
    for pos, xor in flips:
        if -len(data) <= pos < len(data):
            data[pos] ^= xor
    p = tmp_path / "clip.mp4"
    p.write_bytes(bytes(data))
    try:
        src = open_source(p)
        n = 0
        for _frame in src:
            n += 1
            if n >= 5:
                break
        close = getattr(src, "close", None)
        if close:
            close()
    except Exception as e:  # noqa: BLE001
        _is_a_sentence(e)


@pytest.mark.parametrize("where", ["moov_type", "ftyp_size", "moov_body"])
def test_known_header_damage_is_refused_with_a_sentence(tmp_path, clip_bytes, where):
    """The fuzz above must be able to fail: these damages are known to make the clip unreadable."""
    from movescreen.sources import open_source

    data = bytearray(clip_bytes)
    moov = data.rfind(b"moov")
    if where == "moov_type":
        data[moov:moov + 4] = b"xxxx"
    elif where == "ftyp_size":
        data[0:4] = b"\xff\xff\xff\xff"
    else:
        data[moov + 4:] = bytes(len(data) - moov - 4)
    p = tmp_path / "clip.mp4"
    p.write_bytes(bytes(data))
    with pytest.raises(MovescreenError) as ei:
        src = open_source(p)
        for _ in src:
            pass
    _is_a_sentence(ei.value)
