"""The demo clips' camera moves (geometry only) and the clip maker's life cycle."""

from __future__ import annotations

import itertools
import threading

import pytest

from runway_desktop.simulator import clip_maker
from runway_desktop.simulator.clip_maker import ClipMaker, ClipOrder
from runway_desktop.simulator.image_clip import Stopped, render_clip
from runway_desktop.simulator.motion import Box, choose_move, cover_box
from tests.helpers.scene import scene_bytes
from tests.simulator.mjpeg_reader import read_mjpeg

PICTURES = [(1600, 1000), (1000, 1600), (1280, 720), (720, 1280), (960, 960), (4000, 300)]
OUTPUTS = [(1280, 720), (720, 1280), (960, 960), (1584, 672)]


def inside(box: Box, width: int, height: int) -> bool:
    eps = 1e-6
    return (box.left >= -eps and box.top >= -eps
            and box.right <= width + eps and box.bottom <= height + eps)


def test_cover_box_is_the_largest_centred_box_of_the_output_shape() -> None:
    assert cover_box(1600, 1000, 1280, 720) == Box(0.0, 50.0, 1600.0, 900.0)
    assert cover_box(1600, 1000, 720, 1280) == pytest.approx(
        Box(800 - 281.25, 0.0, 562.5, 1000.0))
    assert cover_box(1280, 720, 1280, 720) == Box(0.0, 0.0, 1280.0, 720.0)


@pytest.mark.parametrize("picture", PICTURES)
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("seconds", [5, 10])
def test_every_move_starts_on_the_framed_picture_and_stays_inside_it(
    picture: tuple[int, int], output: tuple[int, int], seconds: int
) -> None:
    width, height = picture
    for seed in range(12):
        move = choose_move(seed, width, height, *output, seconds)
        assert move.at(0) == move.start == cover_box(width, height, *output)
        assert move.at(1) == move.end
        assert move.end != move.start, "the camera moves"
        for step in range(11):
            box = move.at(step / 10)
            assert inside(box, width, height)
            # Every box keeps the output's shape, so frames are never stretched.
            assert box.width / box.height == pytest.approx(output[0] / output[1])


@pytest.mark.parametrize("seed", [3, 5])
def test_moves_go_at_a_constant_speed_to_the_last_frame(seed: int) -> None:
    move = choose_move(seed, 1600, 1000, 1280, 720, 5)
    boxes = [move.at(i / 100) for i in range(101)]
    steps = [(b.left - a.left, b.width - a.width) for a, b in itertools.pairwise(boxes)]

    # The same step every time, the last one too: the last frame differs from the one before.
    assert all(step == pytest.approx(steps[0]) for step in steps)
    assert steps[-1] != pytest.approx((0.0, 0.0))


def test_a_longer_clip_moves_further_at_the_same_speed() -> None:
    short = choose_move(1, 1600, 1000, 1280, 720, 5)
    long = choose_move(1, 1600, 1000, 1280, 720, 10)

    assert short.kind == long.kind == "push-in"
    assert long.at(0.5).width == pytest.approx(short.end.width, rel=0.05)
    assert long.end.width == pytest.approx(long.start.width * 0.8**2)


def test_seeds_choose_push_ins_and_pans_the_same_way_every_time() -> None:
    kinds = {choose_move(seed, 1600, 1000, 1280, 720, 5).kind for seed in range(40)}

    assert "push-in" in kinds
    assert kinds & {"pan-left", "pan-right"}
    assert choose_move(11, 1600, 1000, 720, 1280, 5) == choose_move(11, 1600, 1000, 720, 1280, 5)


def test_a_push_in_ends_inside_the_first_frame() -> None:
    moves = [choose_move(seed, 1600, 1000, 1280, 720, 5) for seed in range(40)]
    push = next(m for m in moves if m.kind == "push-in")

    assert push.end.width == pytest.approx(push.start.width * 0.8)
    assert push.start.left <= push.end.left
    assert push.end.right <= push.start.right
    assert push.start.top <= push.end.top
    assert push.end.bottom <= push.start.bottom


def test_a_pan_uses_the_room_a_wide_picture_has_without_zooming() -> None:
    # A landscape picture in a portrait frame: plenty of room to the sides.
    moves = [choose_move(seed, 1600, 1000, 720, 1280, 5) for seed in range(40)]
    pans = [m for m in moves if m.kind != "push-in"]

    assert pans
    for pan in pans:
        assert pan.kind in ("pan-left", "pan-right")
        assert pan.end.width == pytest.approx(pan.start.width)
        assert pan.end.top == pan.start.top
        assert abs(pan.end.left - pan.start.left) == pytest.approx(pan.start.width * 0.12)


def test_render_stops_when_asked() -> None:
    stop = threading.Event()
    stop.set()

    with pytest.raises(Stopped):
        render_clip(scene_bytes(320, 200), (320, 180), 5, 12, 1, stop=stop)


def test_clip_maker_makes_each_clip_once_and_forgets_them_when_closed() -> None:
    maker = ClipMaker()
    stopping = threading.Event()
    order = ClipOrder(scene_bytes(640, 400), (320, 180), 5, 12, seed=4)
    try:
        maker.order("job-1", order)
        maker.order("job-1", ClipOrder(b"not used", (320, 180), 5, 12, seed=4))  # ignored
        first = maker.clip("job-1", stopping)
        assert first is not None
        assert maker.clip("job-1", stopping) == first
        assert (read_mjpeg(first).width, read_mjpeg(first).seconds) == (320, 5)
        assert maker.clip("unknown job", stopping) is None
    finally:
        maker.close()
    assert maker.clip("job-1", stopping) is None
    # It can be used again after a close (a simulator restarted).
    try:
        maker.order("job-2", order)
        assert maker.clip("job-2", stopping) == first
    finally:
        maker.close()


def test_a_tall_picture_in_a_wide_frame_tilts_instead() -> None:
    moves = [choose_move(seed, 1000, 1600, 1280, 720, 5) for seed in range(40)]
    pans = [m for m in moves if m.kind != "push-in"]

    assert {pan.kind for pan in pans} == {"pan-up", "pan-down"}
    for pan in pans:
        assert pan.end.width == pytest.approx(pan.start.width)
        assert pan.end.left == pan.start.left


@pytest.mark.expect_log_warnings(r"took too long; serving a stock clip")
def test_a_clip_not_ready_in_time_gives_way_to_the_stock_clip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(clip_maker, "WAIT_SECONDS", 0.0)
    maker = ClipMaker()
    try:
        maker.order("job-1", ClipOrder(scene_bytes(640, 400), (320, 180), 10, 12, seed=4))
        assert maker.clip("job-1", threading.Event()) is None
    finally:
        maker.close()


def test_a_stopping_simulator_stops_waiting_for_a_clip() -> None:
    maker = ClipMaker()
    stopping = threading.Event()
    stopping.set()
    try:
        maker.order("job-1", ClipOrder(scene_bytes(640, 400), (320, 180), 10, 12, seed=4))
        assert maker.clip("job-1", stopping) is None
    finally:
        maker.close()
