"""The quit question's words: generations counted as a person writes them, each export named."""

from __future__ import annotations

from pathlib import Path

from runway_desktop.ui.quit_question import quit_question

LATER = " saved and will carry on the next time you open Runway Desktop."


def test_generations_are_counted_in_the_singular_and_the_plural() -> None:
    assert quit_question(1, []) == "1 generation is still running. It is" + LATER
    assert quit_question(3, []) == "3 generations are still running. They are" + LATER
    assert quit_question(0, []) == ""


def test_each_export_is_named_after_the_generations() -> None:
    one = quit_question(0, [Path("/v/clip.gif")])
    assert one == ("An export of “clip.gif” is still being written: quitting stops it and "
                   "nothing is written.")
    both = quit_question(2, [Path("/v/clip.gif"), Path("/f/film.mp4")])
    assert both == ("2 generations are still running. They are" + LATER + "\n\n"
                    "Exports of “clip.gif”, “film.mp4” are still being written: quitting "
                    "stops them and nothing is written.")
