"""A new shot's settings: the parent's, with a new prompt, the changes, and the parent's last
frame as the start image (never the parent's own image or its framing)."""

from __future__ import annotations

from pathlib import Path

from runway_desktop.engine.framing import ImageFrame
from runway_desktop.engine.records import GenerationSettings
from runway_desktop.engine.settings_changes import SettingsChanges, applied, continued

PARENT = GenerationSettings("a kite", duration=10, aspect_ratio="9:16", seed=42,
                            image_url="https://example.com/kite.png", model="runway-gen4.5")


def test_continued_keeps_everything_but_prompt_and_image() -> None:
    made = continued(PARENT, "it rises", Path("/data/last-frames/3.png"))
    assert made == GenerationSettings("it rises", duration=10, aspect_ratio="9:16", seed=42,
                                      image_path="/data/last-frames/3.png",
                                      model="runway-gen4.5")


def test_changes_win_and_a_later_shot_ignores_an_image() -> None:
    made = continued(PARENT, "faster", Path("/f.png"),
                     SettingsChanges(duration=5, seed=1, aspect_ratio="16:9",
                                     model="runway-gen4-turbo", image_path="/other.png"))
    assert (made.duration, made.seed, made.aspect_ratio, made.model) == (
        5, 1, "16:9", "runway-gen4-turbo")
    assert (made.image_path, made.image_url) == ("/f.png", None)


def test_applied_sets_a_first_shots_image() -> None:
    made = applied(GenerationSettings("x"), SettingsChanges(image_path="/a.png"), prompt="y")
    assert (made.prompt, made.image_path) == ("y", "/a.png")
    assert applied(PARENT, None) == PARENT


def test_changes_round_trip_and_merge() -> None:
    changes = SettingsChanges(duration=10, model="runway-gen4.5")
    assert SettingsChanges.from_json(changes.to_json()) == changes
    assert SettingsChanges.from_json({"duration": "10", "seed": True, "model": 3}).is_empty
    assert SettingsChanges(seed=3).over(changes) == SettingsChanges(duration=10, seed=3,
                                                                  model="runway-gen4.5")


def test_the_parents_own_framing_and_image_hash_stay_behind() -> None:
    framed = GenerationSettings("a kite", image_path="/photos/kite.jpg", seed=2,
                                frame=ImageFrame(0.1, 0.1, 0.5, 0.5), image_sha256="ab" * 32,
                                image_source_sha256="cd" * 32)
    made = continued(framed, "next", Path("/f.png"))
    assert (made.image_path, made.frame, made.image_sha256, made.image_source_sha256) == (
        "/f.png", None, None, None)
    assert made.seed == 2
