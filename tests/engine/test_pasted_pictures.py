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


def names(folder: Path) -> list[str]:
    return sorted(p.name.removeprefix("pasted-").removesuffix(".png")
                  for p in [*folder.glob("pasted-*"), *folder.glob(f"{DROPPED_FRAMES}/*")])


def test_a_pasted_picture_goes_only_once_nothing_can_reach_it(
        make_engine: EngineFactory, data_dir: Path) -> None:
    engine = make_engine()  # not started: the journal and the files only
    service = GenerationService(engine)
    folder = pasted_dir(data_dir)
    made = {name: picture(folder, f"pasted-{name}.png") for name in (
        "waiting", "failed", "shot", "demo", "aside", "kept", "held", "removed", "replaced")}
    made["fresh"] = picture(folder, "pasted-fresh.png", old=False)
    made["frame"] = picture(folder / DROPPED_FRAMES, "clip-last-1a2b3c4d.png")
    mine = picture(data_dir.parent / "Pictures", "pasted-mine.png")  # a file of the person's
    (folder / "pasted-link.png").symlink_to(mine)
    loose = picture(paths.work_dir(data_dir), "pasted-loose.png")

    def named(key: str, prompt: str = "a boat") -> GenerationSettings:
        return GenerationSettings(prompt, image_path=str(made[key]))

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

    assert sorted(p.name for p in gone) == ["clip-last-1a2b3c4d.png", "pasted-replaced.png"]
    assert names(folder) == ["aside", "demo", "failed", "fresh", "held", "kept", "link",
                             "removed", "shot", "waiting"]
    assert mine.is_file()  # never a file outside work/pasted
    assert loose.is_file()

    service.remove(removed.id)  # the removal is final (the window's Undo is over)
    holds.release()
    gone = forget_unused(folder, keep=[str(made["kept"])])

    assert sorted(p.name for p in gone) == ["pasted-held.png", "pasted-removed.png"]
    # Unused, once old enough; and what the window kept, once it lets go.
    assert forget_unused(folder, keep=[str(made["kept"])], min_age_s=0) == [made["fresh"]]
    assert forget_unused(folder) == [made["kept"]]
    assert names(folder) == ["aside", "demo", "failed", "link", "shot", "waiting"]
    assert mine.is_file()


def test_a_history_that_cant_be_read_keeps_every_picture(
        make_engine: EngineFactory, data_dir: Path) -> None:
    make_engine()
    folder = pasted_dir(data_dir)
    unused = picture(folder, "pasted-unused.png")
    # Something at a moved-aside history's name that can't be read as a file.
    paths.journal_path(data_dir).with_name("journal.sqlite3.bad-20261130-020000").mkdir()

    assert forget_unused(folder) == []
    assert unused.is_file()


def test_a_folder_without_a_history_is_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "work" / "pasted"
    unused = picture(folder, "pasted-unused.png")

    assert forget_unused(folder) == []
    assert unused.is_file()
