"""Spoken cues for ``movescreen live --speak``: short sentences, an offline voice, a rate limit.

Nobody can read a screen with their head down in a hinge, so each cue can be said aloud with
espeak-ng (Debian package ``espeak-ng``), run as a subprocess. When espeak-ng is missing (or
fails) a short tone is played instead with ``aplay`` (Debian ``alsa-utils``), when present.
Speaking never blocks the live loop: utterances run on a background thread, and a cue that
comes less than ``min_interval_s`` after the previous one is not spoken (it is still shown).

Test switch: when the environment variable ``MOVESCREEN_SPEECH_WAV`` names a file, speech (or
the tone) is written there as WAV instead of being played: the first utterance to that path,
later ones to ``<stem>-2.wav``, ``<stem>-3.wav`` ...

Cue wording never asks anyone to push through pain; the pain guidance is part of the end-of-set
summary (:data:`movescreen.safety.PAIN_GUIDANCE`).
"""

from __future__ import annotations

import math
import os
import queue
import shutil
import subprocess
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

SPEECH_WAV_ENV = "MOVESCREEN_SPEECH_WAV"
ESPEAK_ENV = "MOVESCREEN_ESPEAK"  # path of the espeak-ng binary; "none" forces the tone
MIN_INTERVAL_S = 3.0

CUES: dict[str, str] = {
    "lumbar_rounding": "Hinge at the hips: your low back is rounding.",
    "squatting_the_hinge": "Hips back and higher: this is a hinge, not a squat.",
    "lockout_hyperextension": "Finish tall: squeeze your glutes, don't lean back.",
    "hips_rise_first": "Chest and hips rise together.",
    "knee_valgus": "Keep your {side}knee over your toes.",
    "knee_valgus_width": "Push your knees out over your feet.",
    "knee_twist": "Point your {side}knee the same way as your foot.",
    "insufficient_depth": "Sit a little deeper if it feels comfortable.",
    "heel_lift": "Keep your {side}heel down.",
    "excessive_forward_lean": "Chest up: let your knees travel forward.",
    "asymmetry": "Share the weight evenly on both legs.",
    "knee_twist_for_hip_rotation": "Keep the {side}thigh still; turn from the hip.",
    "trunk_for_hip_rotation": "Sit tall and level; let the hip do the turning.",
    "hip_rotation_asymmetry": "One hip turns less: note it, don't force it.",
}
"""Rule id -> the short sentence shown and spoken the moment the compensation shows."""


def cue_text(rule: str, side: str = "none", fallback: str = "") -> str:
    """The short cue for a rule.

    Parameters
    ----------
    rule : str
        Finding rule id (``lumbar_rounding`` ...).
    side : str
        'left' or 'right' names the side; anything else leaves it out.
    fallback : str
        Used for a rule with no cue of its own (e.g. the finding's ``message_client``).

    >>> cue_text("knee_valgus", "left")
    'Keep your left knee over your toes.'
    >>> cue_text("knee_valgus", "both")
    'Keep your knee over your toes.'
    """
    template = CUES.get(rule)
    if template is None:
        return fallback or rule.replace("_", " ").capitalize() + "."
    return template.format(side=f"{side} " if side in ("left", "right") else "")


def make_tone(
    *, freq_hz: float = 880.0, duration_s: float = 0.25, rate_hz: int = 22050, amplitude: float = 0.4
) -> np.ndarray:
    """A sine beep with 10 ms fades, as int16 samples of shape (n,).

    >>> t = make_tone(duration_s=0.1)
    >>> t.dtype, t.shape, int(np.abs(t).max()) > 10000
    (dtype('int16'), (2205,), True)
    """
    n = round(duration_s * rate_hz)
    t = np.arange(n) / rate_hz
    y = amplitude * np.sin(2 * math.pi * freq_hz * t)
    fade = min(n // 2, int(0.01 * rate_hz))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        y[:fade] *= ramp
        y[n - fade:] *= ramp[::-1]
    return np.round(y * 32767).astype(np.int16)


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, rate_hz: int = 22050) -> Path:
    """Write mono int16 samples as a WAV file."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(p), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        w.writeframes(np.asarray(samples, np.int16).tobytes())
    return p


def wav_rms(path: str | os.PathLike[str]) -> float:
    """Root-mean-square amplitude of a 16-bit WAV file, 0..1 (0 for an empty file)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"expected 16-bit samples, got {8 * w.getsampwidth()}-bit")
        data = np.frombuffer(w.readframes(w.getnframes()), np.int16)
    if data.size == 0:
        return 0.0
    return float(np.sqrt(np.mean((data.astype(np.float64) / 32768.0) ** 2)))


def find_espeak() -> str | None:
    """Path of espeak-ng (or espeak), honouring ``MOVESCREEN_ESPEAK`` ('none' = pretend absent)."""
    forced = os.environ.get(ESPEAK_ENV)
    if forced:
        return None if forced.lower() == "none" else (forced if Path(forced).exists() else None)
    return shutil.which("espeak-ng") or shutil.which("espeak")


class Speaker:
    """Says cues aloud on a background thread, at most one every ``min_interval_s`` seconds.

    Parameters
    ----------
    min_interval_s : float
        Cues closer together than this are not spoken (``say`` returns False).
    wav_path : path-like, optional
        Write utterances to WAV files instead of playing them (default: ``$MOVESCREEN_SPEECH_WAV``).
    espeak : str, optional
        espeak-ng binary (default: :func:`find_espeak`); None uses the tone.
    clock : callable, optional
        Monotonic clock in seconds (tests pass a fake one).
    on_warning : callable, optional
        Receives one plain sentence when speech falls back to the tone or cannot play at all.
    """

    def __init__(
        self,
        *,
        min_interval_s: float = MIN_INTERVAL_S,
        wav_path: str | os.PathLike[str] | None = None,
        espeak: str | None = "auto",
        clock: Callable[[], float] = time.monotonic,
        on_warning: Callable[[str], None] | None = None,
        voice_speed_wpm: int = 165,
    ) -> None:
        self.min_interval_s = float(min_interval_s)
        env_wav = os.environ.get(SPEECH_WAV_ENV)
        self.wav_path = Path(wav_path) if wav_path is not None else (Path(env_wav) if env_wav else None)
        self.espeak = find_espeak() if espeak == "auto" else espeak
        self.aplay = shutil.which("aplay")
        self.clock = clock
        self.on_warning = on_warning
        self.speed = voice_speed_wpm
        self.spoken: list[str] = []
        self.written: list[Path] = []
        self.engine = "espeak-ng" if self.espeak else "tone"
        self._last = -math.inf
        self._warned: set[str] = set()
        self._q: queue.Queue[str | None] = queue.Queue(maxsize=4)
        self._thread = threading.Thread(target=self._run, name="movescreen-speech", daemon=True)
        self._thread.start()
        if self.espeak is None:
            self._warn("espeak-ng was not found (Debian package espeak-ng); cues are a short tone instead of speech.")

    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            if self.on_warning is not None:
                self.on_warning(message)

    def say(self, text: str) -> bool:
        """Queue ``text`` to be spoken; False when it comes too soon after the last one."""
        now = self.clock()
        if now - self._last < self.min_interval_s:
            return False
        try:
            self._q.put_nowait(text)
        except queue.Full:
            return False
        self._last = now
        self.spoken.append(text)
        return True

    def close(self, timeout_s: float = 10.0) -> None:
        """Finish what is queued (up to ``timeout_s``) and stop the thread."""
        try:
            self._q.put(None, timeout=timeout_s)
        except queue.Full:
            return
        self._thread.join(timeout=timeout_s)

    # ------------------------------------------------------------------ worker

    def _next_wav(self, base: Path) -> Path:
        n = len(self.written) + 1
        if n == 1:
            return base
        return base.with_name(f"{base.stem}-{n}{base.suffix or '.wav'}")

    def _run(self) -> None:
        while True:
            text = self._q.get()
            if text is None:
                return
            try:
                self._utter(text)
            except (OSError, subprocess.SubprocessError) as e:
                self._warn(f"A cue could not be spoken ({e}); it is still shown on screen.")

    def _utter(self, text: str) -> None:
        target = self._next_wav(self.wav_path) if self.wav_path is not None else None
        if self.espeak is not None:
            cmd = [self.espeak, "-s", str(self.speed)]
            cmd += ["-w", str(target)] if target is not None else []
            r = subprocess.run([*cmd, text], capture_output=True, timeout=20, check=False)
            if r.returncode == 0 and (target is None or (target.exists() and target.stat().st_size > 44)):
                if target is not None:
                    self.written.append(target)
                return
            reason = (r.stderr.decode(errors="replace").strip().splitlines() or ["no reason given"])[-1]
            self._warn(f"espeak-ng could not speak ({reason[:120]}); cues are a short tone instead.")
        self._tone(target)

    def _tone(self, target: Path | None) -> None:
        samples = make_tone()
        if target is not None:
            self.written.append(write_wav(target, samples))
            return
        if self.aplay is None:
            self._warn("Neither espeak-ng nor aplay was found; cues cannot be heard, only seen.")
            return
        import tempfile

        with tempfile.NamedTemporaryFile(suffix=".wav") as f:
            write_wav(f.name, samples)
            subprocess.run([self.aplay, "-q", f.name], capture_output=True, timeout=10, check=False)
