"""The live window's hand-over between the loop thread and the window (main) thread.

OpenCV is replaced by a recorder of the calls, so these run without a display; the real window
under Xvfb is tested in ``test_window.py``.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from movescreen import live
from movescreen.live import LiveWindow, _Picture, _run_windowed, _Stop, _Timing
from movescreen.stream import StepOutput

pytest.importorskip("cv2")


class FakeCv2:
    """Records what the window shows; ``keys`` maps a picture count to the key pressed after it."""

    WND_PROP_VISIBLE = 4

    def __init__(self, keys: dict[int, int] | None = None, *, show_s: float = 0.0) -> None:
        self.keys = dict(keys or {})
        self.show_s = show_s  # a slow window: the loop would outrun it if it did not wait
        self.shown: list[np.ndarray] = []
        self.threads: set[str] = set()
        self.polls = 0

    def imshow(self, name: str, image: np.ndarray) -> None:
        self.threads.add(threading.current_thread().name)
        time.sleep(self.show_s)
        self.shown.append(image)

    def waitKey(self, ms: int) -> int:  # noqa: N802 - OpenCV's name
        self.threads.add(threading.current_thread().name)
        self.polls += 1
        return self.keys.pop(len(self.shown), -1)

    def resizeWindow(self, name: str, w: int, h: int) -> None:  # noqa: N802
        self.threads.add(threading.current_thread().name)

    def getWindowProperty(self, name: str, prop: int) -> float:  # noqa: N802
        self.threads.add(threading.current_thread().name)
        return 1.0


def _window(fake: FakeCv2, *, wait: bool) -> tuple[LiveWindow, _Timing]:
    timing = _Timing(time.perf_counter())
    w = LiveWindow(timing, wait_for_window=wait)
    w._cv2 = fake
    return w, timing


def _out(i: int) -> StepOutput:
    row = np.full((33, 3), 50.0)
    return StepOutput(frame=i, time_s=i / 30, row_xyz=row, angles={}, depth_deg=0.0, phase="standing",
                      rep_count=0, view="side", events=[])


def _image(i: int) -> np.ndarray:
    return np.full((120, 160, 3), i % 250, np.uint8)


def test_paced_a_picture_not_yet_shown_is_replaced_and_its_latency_still_counts() -> None:
    fake = FakeCv2()
    w, timing = _window(fake, wait=False)
    t0 = time.perf_counter()
    w.show(_Picture(_image(1), _out(1), {}, [t0]))
    w.show(_Picture(_image(2), _out(2), {}, [t0 + 0.001]))  # the loop never waits
    loop = threading.Thread(target=lambda: None)
    loop.start()
    loop.join()
    w.run(loop)  # the loop has ended: the pending picture is shown, then run returns
    assert len(fake.shown) == 1
    shown = fake.shown[0]
    assert np.median(shown) == 2  # the newer picture, not the replaced one
    assert (shown != 2).sum() > 500  # with its overlay drawn (banner, skeleton)
    assert len(timing.latencies) == 2  # both frames' results reached the screen with picture 2


def test_unpaced_every_picture_is_shown_in_order_on_the_main_thread() -> None:
    fake = FakeCv2(show_s=0.005)
    w, timing = _window(fake, wait=True)
    n = 25

    def loop() -> np.ndarray:
        for i in range(n):
            w.show(_Picture(_image(i), None, {}, [time.perf_counter()]))
        return _image(n)

    last = _run_windowed(loop, w, _Stop())
    assert int(last[0, 0, 0]) == n
    assert [int(img[0, 0, 0]) for img in fake.shown] == list(range(n))
    assert len(timing.latencies) == n
    assert fake.threads == {threading.main_thread().name}  # Qt's rule: one thread for the window


def test_the_keys_reach_the_loop_as_flags() -> None:
    fake = FakeCv2({3: ord("r"), 5: ord(" "), 8: ord(" "), 12: ord("q")})
    w, _ = _window(fake, wait=True)
    seen: list[tuple[int, int, bool]] = []

    def loop() -> None:
        i = 0
        while not w.quit and i < 1000:
            seen.append((i, w.take_resets(), w.paused))
            w.show(_Picture(_image(i), None, {}, []))
            i += 1

    _run_windowed(loop, w, _Stop())
    assert w.quit
    assert len(seen) < 20  # q ended the loop soon after the 12th picture
    assert sum(r for _, r, _ in seen) == 1
    paused = [i for i, _, p in seen if p]
    assert paused and all(5 <= i <= 10 for i in paused)  # between the two spaces, give or take the hand-over


def test_an_error_in_the_loop_reaches_the_caller_and_ends_the_window() -> None:
    fake = FakeCv2()
    w, _ = _window(fake, wait=False)

    def loop() -> None:
        w.show(_Picture(_image(0), None, {}, []))
        raise RuntimeError("the model failed")

    with pytest.raises(RuntimeError, match="the model failed"):
        _run_windowed(loop, w, _Stop())


def test_an_idle_window_still_polls_its_keys() -> None:
    fake = FakeCv2({0: ord("q")})  # q pressed before any picture
    w, _ = _window(fake, wait=False)

    def loop() -> None:
        deadline = time.monotonic() + 30
        while not w.quit and time.monotonic() < deadline:
            time.sleep(0.01)

    _run_windowed(loop, w, _Stop())
    assert w.quit and fake.polls >= 1 and not fake.shown


def test_module_keeps_every_window_call_in_live_window() -> None:
    # the loop itself must not touch OpenCV's window: only LiveWindow (main thread) and the
    # functions run before and after the loop do
    import inspect

    src = inspect.getsource(live._loop)
    for call in ("imshow", "waitKey", "getWindowProperty", "resizeWindow"):
        assert call not in src


def test_the_last_picture_is_shown_even_when_the_loop_ends_right_after_handing_it_over() -> None:
    fake = FakeCv2()
    w, timing = _window(fake, wait=False)

    class EndingLoop:
        """Hands over its last picture and ends between two looks of the window."""

        calls = 0

        def is_alive(self) -> bool:
            self.calls += 1
            if self.calls == 2:
                w.show(_Picture(_image(7), None, {}, [time.perf_counter()]))
                return False
            return self.calls < 2

    w.run(EndingLoop())  # type: ignore[arg-type]
    assert [int(img[0, 0, 0]) for img in fake.shown] == [7]
    assert len(timing.latencies) == 1
