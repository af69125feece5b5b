"""Spoken cues: wording, rate limit, espeak-ng to a WAV file, the tone fallback."""

from __future__ import annotations

import shutil
import time

import pytest

from movescreen.speech import CUES, Speaker, cue_text, make_tone, wav_rms, write_wav


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_every_rule_has_a_short_cue_and_none_says_push_through_pain() -> None:
    from movescreen.rules.engine import RULES

    for rule in RULES:
        text = cue_text(rule.finding_id, "left")
        assert text and len(text) <= 60, text
        assert rule.finding_id in CUES
        assert "pain" not in text.lower() and "push through" not in text.lower()
    assert cue_text("lumbar_rounding") == "Hinge at the hips: your low back is rounding."
    assert cue_text("new_rule", fallback="Do it better.") == "Do it better."


def test_cues_are_rate_limited(tmp_path) -> None:
    clock = FakeClock()
    sp = Speaker(min_interval_s=3.0, wav_path=tmp_path / "s.wav", espeak=None, clock=clock)
    try:
        assert sp.say("one") is True
        clock.t += 1.0
        assert sp.say("two") is False  # too soon
        clock.t += 2.5
        assert sp.say("three") is True
    finally:
        sp.close()
    assert sp.spoken == ["one", "three"]
    assert [p.name for p in sp.written] == ["s.wav", "s-2.wav"]


def test_tone_fallback_writes_a_non_silent_wav(tmp_path) -> None:
    warnings: list[str] = []
    sp = Speaker(wav_path=tmp_path / "tone.wav", espeak=None, on_warning=warnings.append)
    assert sp.engine == "tone"
    assert sp.say("Hinge at the hips")
    sp.close()
    assert wav_rms(tmp_path / "tone.wav") > 0.1
    assert any("espeak-ng" in w for w in warnings)


def test_espeak_writes_speech_to_the_wav_switch(tmp_path, monkeypatch) -> None:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (Debian package espeak-ng; `make test` installs it)")
    out = tmp_path / "speech.wav"
    monkeypatch.setenv("MOVESCREEN_SPEECH_WAV", str(out))
    monkeypatch.delenv("MOVESCREEN_ESPEAK", raising=False)
    sp = Speaker()
    assert sp.engine == "espeak-ng"
    t0 = time.perf_counter()
    assert sp.say(cue_text("lumbar_rounding"))
    assert time.perf_counter() - t0 < 0.05  # never blocks the caller
    sp.close()
    assert sp.written == [out]
    assert wav_rms(out) > 0.02
    # speech lasts about as long as the sentence takes to say
    import wave

    with wave.open(str(out)) as w:
        assert 1.0 < w.getnframes() / w.getframerate() < 6.0


def test_silence_reads_as_silent(tmp_path) -> None:
    p = write_wav(tmp_path / "quiet.wav", make_tone(amplitude=0.0))
    assert wav_rms(p) == 0.0
