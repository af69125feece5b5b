#!/usr/bin/env bash
# The oldest dependency versions pyproject.toml claims to support, tested.
#
# Makes a separate virtual environment (.venv-lowest), installs exactly the `>=` lower bound of
# every core dependency (scripts/lowest_constraints.py writes them as `==` constraints; a bound
# that names no release on the index, or that does not install on this Python, fails here), and
# runs the fast tests plus one real-model test against them. A lower bound that is wrong
# (an API used that the oldest allowed version lacks) fails CI. Run by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${LOWEST_VENV:-.venv-lowest}"
PYTHON="${PYTHON:-python3}"
start=$(date +%s)

"$PYTHON" -m venv --clear "$VENV"
"$PYTHON" scripts/lowest_constraints.py test > "$VENV/constraints.txt"
pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
# binary wheels only: a lower bound must be installable as users get it, without compiling
"${pip[@]}" install --only-binary :all: -c "$VENV/constraints.txt" hatchling pytest pytest-timeout hypothesis jsonschema
"${pip[@]}" install --only-binary :all: -c "$VENV/constraints.txt" --no-build-isolation .   # a real install, as users get it

# every pinned package that is installed must be at its lowest version (a constraint can only
# narrow, so this catches a bound another package's requirement silently raised)
"$VENV/bin/python" - "$VENV/constraints.txt" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version
from packaging.version import Version
bad = []
for line in open(sys.argv[1]):
    name, want = line.strip().split("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        continue
    if Version(have) != Version(want):
        bad.append(f"{name} {have} (wanted {want})")
print("lowest versions:", ", ".join(line.strip() for line in open(sys.argv[1])))
if bad:
    sys.exit("lowest-deps: not at the lower bound: " + "; ".join(bad))
PY

# The fast tests (no pandas/notebook/browser extras here). Deselected: the rotation test's clip
# writer needs VideoStream.set_display_rotation, which PyAV 14.1 lacks; reading rotation (what
# movescreen uses, VideoFrame.rotation) works on 14.1 and is checked by hand in docs/reliability.md.
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -m "not slow and not model" \
    --deselect tests/test_sources.py::test_rotation_metadata_is_applied_like_opencv \
    tests/kinematics tests/rules tests/test_config.py tests/test_sources.py tests/test_sinks.py \
    tests/test_model.py tests/hardening/test_config_schema.py tests/hardening/test_main_module.py "$@"
# the oldest mediapipe on the bundled model: landmarks vs the reference, and the mask outline
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/test_pose_real.py \
    "tests/kinematics/test_back_contour_real.py::test_rounded_hinge_reads_rounded[deadlift_side_rounded_back_01.mp4]"
echo "lowest-deps: done in $(( $(date +%s) - start )) s"
