"""Pictures pasted into the window go once nothing can reach them any more, and only then: real
files in a real data folder, the real journal (live, demo and a history moved aside), a
sequence's first shot, and a hold taken through another open file."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from PIL import Image

from runway_desktop import paths
from runway_desktop.engine.commands import GenerationService
from runway_desktop.engine.journal import Journal
from runway_desktop.engine.pasted_pictures import (
    DEMO_HISTORY,
    DROPPED_FRAMES,
    PastedHolds,
    forget_unused,
    pasted_dir,
)
from runway_desktop.engine.records import GenerationSettings, Stage
from runway_desktop.engine.sequence_store import SequenceStore
from runway_desktop.engine.settings_changes import SettingsChanges
from tests.engine.conftest import EngineFactory

HOUR_AGO = time.time() - 3600


def picture(folder: Path, name: str, *, old: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    Image.new("RGB", (16, 9), (200, 80, 40)).save(path)
    if old:
        os.utime(path, (HOUR_AGO, HOUR_AGO))
    return path


def pasted_name(label: str) -> str:
    """A name as the window gives a pasted picture (ui/drop_zone.py), told apart by `label`."""
    return f"pasted-20261130-020000-{label.encode().hex()[:6]:0>6}.png"


def test_a_pasted_picture_goes_only_once_nothing_can_reach_it(
        make_engine: EngineFactory, data_dir: Path) -> None:
    engine = make_engine()  # not started: the journal and the files only
    service = GenerationService(engine)
    folder = pasted_dir(data_dir)
    made = {label: picture(folder, pasted_name(label)) for label in (
        "waiting", "failed", "shot", "demo", "aside", "kept", "held", "removed", "replaced")}
    made["fresh"] = picture(folder, pasted_name("fresh"), old=False)
    made["frame"] = picture(folder / DROPPED_FRAMES, "clip-last-1a2b3c4d.png")
    made["other"] = picture(folder, "pasted-by-someone-else.png")  # not named as the window does
    mine = picture(data_dir.parent / "Pictures", pasted_name("mine"))  # a file of the person's
    made["link"] = folder / pasted_name("link")
    made["link"].symlink_to(mine)
    loose = picture(paths.work_dir(data_dir), pasted_name("loose"))

    def labels() -> list[str]:
        return sorted(label for label, path in made.items() if path.is_symlink() or path.exists())

    def named(label: str, prompt: str = "a boat") -> GenerationSettings:
        return GenerationSettings(prompt, image_path=str(made[label]))

    engine.journal.add(named("waiting"))
    failed = engine.journal.add(named("failed"))
    engine.journal.update(failed.id, stage=Stage.FAILED, error="refused")
    removed = engine.journal.add(named("removed"))
    SequenceStore(engine.journal).create("Pond", [
        ("a boat", SettingsChanges(image_path=str(made["shot"]))), ("it sinks", SettingsChanges())])
    demo = Journal(paths.journal_path(data_dir / DEMO_HISTORY))
    demo.add(named("demo"))
    demo.close()
    # A history moved aside by reset-history (the person may move it back): read as bytes.
    aside_dir = data_dir / "aside"
    aside = Journal(paths.journal_path(aside_dir))
    aside.add(named("aside"))
    aside.close()
    shutil.copy(paths.journal_path(aside_dir),
                paths.journal_path(data_dir).with_name("journal.sqlite3.bad-20261130-020000"))
    holds = PastedHolds(folder)  # another window showing it
    holds.hold([str(made["held"]), str(mine)])
    assert holds.held == {made["held"]}

    gone = forget_unused(folder, keep=[str(made["kept"])])

    assert sorted(gone) == sorted([made["frame"], made["replaced"]])
    assert labels() == ["aside", "demo", "failed", "fresh", "held", "kept", "link", "other",
                        "removed", "shot", "waiting"]
    assert mine.is_file()  # never a file outside work/pasted
    assert loose.is_file()

    service.remove(removed.id)  # the removal is final (the window's Undo is over)
    holds.release()
    gone = forget_unused(folder, keep=[str(made["kept"])])

    assert sorted(gone) == sorted([made["held"], made["removed"]])
    # Unused, once old enough; and what the window kept, once it lets go.
    assert forget_unused(folder, keep=[str(made["kept"])], min_age_s=0) == [made["fresh"]]
    assert forget_unused(folder) == [made["kept"]]
    assert labels() == ["aside", "demo", "failed", "link", "other", "shot", "waiting"]
    assert mine.is_file()


def test_a_history_that_cant_be_read_keeps_every_picture(
        make_engine: EngineFactory, data_dir: Path) -> None:
    make_engine()
    folder = pasted_dir(data_dir)
    unused = picture(folder, pasted_name("unused"))
    # Something at a moved-aside history's name that can't be read as a file.
    paths.journal_path(data_dir).with_name("journal.sqlite3.bad-20261130-020000").mkdir()

    assert forget_unused(folder) == []
    assert unused.is_file()


def test_a_folder_without_a_history_is_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "work" / "pasted"
    unused = picture(folder, pasted_name("unused"))

    assert forget_unused(folder) == []
    assert unused.is_file()
