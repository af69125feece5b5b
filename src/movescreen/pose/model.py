"""Finding, verifying and (on request only) fetching pose model files.

Lookup order: an explicit path (``--model PATH``) or the ``MOVESCREEN_MODEL`` environment
variable, then the model bundled with the package (inside the wheel) or in the checkout's
``models/`` folder. A bundled or fetched model is verified against its manifest's sha256.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from movescreen.errors import ModelError
from movescreen.sinks import file_sha256

DEFAULT_MODEL = "pose_landmarker_full.task"
OFFICIAL_MODELS = ("lite", "full", "heavy")
OFFICIAL_URL = (
    "https://storage.googleapis.com/mediapipe-models/pose_landmarker/"
    "pose_landmarker_{name}/float16/latest/pose_landmarker_{name}.task"
)
REQUIRED_MEMBERS = ("pose_detector.tflite", "pose_landmarks_detector.tflite")
HOW_TO_GET = (
    "reinstall movescreen (the wheel and the git checkout both carry models/"
    f"{DEFAULT_MODEL}), or point --model / MOVESCREEN_MODEL at a pose_landmarker .task file, "
    "or run `movescreen models fetch full` on a machine with internet access"
)


@dataclass(frozen=True)
class ModelFile:
    """A verified model file."""

    path: Path
    sha256: str
    size_bytes: int
    origin: str  # "argument" | "environment" | "bundled" | "cache"
    verified: bool  # True when the checksum matched a manifest entry

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "name": self.path.name,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "origin": self.origin,
            "checksum_verified": self.verified,
        }


def bundled_model_dirs() -> list[Path]:
    """Folders where a bundled model may live: inside the installed package, then the checkout."""
    here = Path(__file__).resolve().parent.parent  # src/movescreen or site-packages/movescreen
    return [here / "_models", here.parent.parent / "models"]


def cache_dir() -> Path:
    """The user's model cache (``$XDG_CACHE_HOME/movescreen/models``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "movescreen" / "models"


def _load_manifest(folder: Path) -> dict[str, Any]:
    p = folder / "manifest.json"
    if not p.is_file():
        return {}
    try:
        data = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ModelError(f"The model manifest {p} is unreadable ({e}); {HOW_TO_GET}.") from e
    models = data.get("models", {})
    return models if isinstance(models, dict) else {}


def _check_bundle(path: Path) -> None:
    """Check that a file is a MediaPipe Tasks pose bundle (a zip with both tflite members)."""
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError) as e:
        raise ModelError(
            f"The model file {path} is not a MediaPipe .task bundle (corrupt or wrong file); "
            f"{HOW_TO_GET}."
        ) from e
    missing = [m for m in REQUIRED_MEMBERS if m not in names]
    if missing:
        raise ModelError(
            f"The model file {path} lacks {', '.join(missing)}, so it is not a pose landmarker "
            f"bundle; {HOW_TO_GET}."
        )


def verify_model(path: Path, origin: str, manifest: dict[str, Any] | None = None) -> ModelFile:
    """Verify ``path`` against ``manifest`` (if it lists the file) and its bundle structure."""
    if not path.is_file():
        raise ModelError(f"No model file at {path}; {HOW_TO_GET}.")
    size = path.stat().st_size
    digest = file_sha256(path)
    entry = (manifest or {}).get(path.name)
    verified = False
    if entry is not None:
        if digest != entry.get("sha256") or size != entry.get("size_bytes", size):
            raise ModelError(
                f"The model file {path} is corrupt: its checksum is {digest[:12]}..., expected "
                f"{str(entry.get('sha256'))[:12]}...; {HOW_TO_GET}."
            )
        verified = True
    _check_bundle(path)
    return ModelFile(path=path, sha256=digest, size_bytes=size, origin=origin, verified=verified)


def resolve_model(explicit: str | os.PathLike[str] | None = None) -> ModelFile:
    """Find and verify the pose model.

    Parameters
    ----------
    explicit : path, optional
        A model file given on the command line; takes precedence over ``MOVESCREEN_MODEL``.

    Raises
    ------
    ModelError
        When no usable model is found, or the file found is corrupt.
    """
    if explicit is not None:
        return _verify_user_path(Path(explicit), "argument")
    env = os.environ.get("MOVESCREEN_MODEL")
    if env:
        return _verify_user_path(Path(env), "environment")
    for folder in bundled_model_dirs():
        candidate = folder / DEFAULT_MODEL
        if candidate.is_file():
            return verify_model(candidate, "bundled", _load_manifest(folder))
    raise ModelError(f"The bundled pose model {DEFAULT_MODEL} is missing; {HOW_TO_GET}.")


def _verify_user_path(path: Path, origin: str) -> ModelFile:
    path = path.expanduser()
    if not path.is_file():
        where = "--model" if origin == "argument" else "MOVESCREEN_MODEL"
        raise ModelError(f"{where} points to {path}, which does not exist; {HOW_TO_GET}.")
    # a file that sits beside a manifest (the checkout's models/, the cache) is checked against it
    manifest = _load_manifest(path.parent)
    if path.name not in manifest:
        # under another name or elsewhere: a file the size of a model we know, whose checksum
        # differs, is a damaged copy of it (a flipped byte keeps the size), not a new model
        size = path.stat().st_size
        for folder in [*bundled_model_dirs(), cache_dir()]:
            for name, entry in _load_manifest(folder).items():
                if entry.get("size_bytes") != size:
                    continue
                if file_sha256(path) == entry.get("sha256"):  # a known model under another name
                    return verify_model(path, origin, {path.name: entry})
                raise ModelError(f"The model file {path.name} has the size of {name} but another "
                                 f"checksum: it looks like a damaged copy; {HOW_TO_GET}.")
    return verify_model(path, origin, manifest)


def list_models() -> list[dict[str, Any]]:
    """Every model movescreen knows of: bundled ones and those in the user cache."""
    rows: list[dict[str, Any]] = []
    seen: set[Path] = set()
    for folder, origin in [(d, "bundled") for d in bundled_model_dirs()] + [
        (cache_dir(), "cache")
    ]:
        manifest = _load_manifest(folder)
        for name, entry in sorted(manifest.items()):
            p = (folder / name).resolve()
            if p in seen:
                continue
            seen.add(p)
            rows.append(
                {
                    "name": name,
                    "origin": origin,
                    "path": str(p),
                    "present": p.is_file(),
                    "sha256": entry.get("sha256"),
                    "size_bytes": entry.get("size_bytes"),
                }
            )
    return rows


def fetch_model(name: str, *, timeout_s: float = 20.0, dest_dir: Path | None = None) -> ModelFile:
    """Download Google's official ``pose_landmarker_{name}.task`` into the user cache.

    This is the only code in movescreen that uses the network, and only when the user asks.

    Raises
    ------
    ModelError
        For an unknown name, or when the download fails (e.g. the machine is offline).
    """
    if name not in OFFICIAL_MODELS:
        raise ModelError(
            f"Unknown model {name!r}; expected one of {', '.join(OFFICIAL_MODELS)}."
        )
    # MOVESCREEN_MODEL_URL lets a mirror (or a test) replace Google's address; {name} is filled in
    url = os.environ.get("MOVESCREEN_MODEL_URL", OFFICIAL_URL).format(name=name)
    folder = dest_dir or cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"pose_landmarker_{name}.task"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
            with os.fdopen(fd, "wb") as f:
                while chunk := resp.read(1 << 20):
                    f.write(chunk)
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        raise ModelError(
            f"Could not download the {name} model ({getattr(e, 'reason', e)}); this machine "
            "seems to be offline. Download it on a connected machine with `movescreen models "
            f"fetch {name}` and copy {target.name} here, then pass it with --model."
        ) from e
    try:
        _check_bundle(Path(tmp))
    except ModelError:
        os.unlink(tmp)
        raise
    os.replace(tmp, target)
    digest = file_sha256(target)
    manifest_path = folder / "manifest.json"
    data: dict[str, Any] = {"schema": 1, "models": {}}
    if manifest_path.is_file():
        try:
            data = json.loads(manifest_path.read_text())
        except json.JSONDecodeError:
            pass
    data.setdefault("models", {})[target.name] = {
        "sha256": digest,
        "size_bytes": target.stat().st_size,
        "description": f"official pose_landmarker_{name} from {url}",
        "licence": "Apache-2.0",
    }
    from movescreen.sinks import write_text_atomic

    write_text_atomic(manifest_path, json.dumps(data, indent=2))
    return ModelFile(target, digest, target.stat().st_size, "cache", True)
