"""Sequences in the journal (schema 7): shots in order, takes, the chosen take, and the one
write that matters for money — a shot's generation and its link in one transaction, made once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from runway_desktop.engine.journal import SCHEMA_VERSION, Journal
from runway_desktop.engine.records import GenerationSettings, Stage
from runway_desktop.engine.sequence_records import (
    MAX_NAME,
    KeptTakes,
    RunState,
    SequenceRefused,
    SequenceRunning,
    sequence_name,
)
from runway_desktop.engine.sequence_store import SequenceStore
from runway_desktop.engine.settings_changes import SettingsChanges
from tests.helpers.old_journal import old_schema

FIRST = GenerationSettings("a lighthouse at dusk", seed=3)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    j = Journal(tmp_path / "journal.sqlite3")
    yield j
    j.close()


def _version_6_journal(path: Path) -> None:
    """A journal as schema 6 wrote it, with one finished generation (idempotency key k1)."""
    db = old_schema(path, 6)
    db.execute("INSERT INTO generations (settings_json, idempotency_key, stage, created_at, "
               "updated_at, job_id, credit_cost, video_path) VALUES (?, 'k1', 'done', 1, 2, "
               "'job-1', 8, '/v/a.mp4')", ('{"model":"runway-gen4-turbo","params":{"prompt":'
                                           '"old one","seed":9},"images":{}}',))
    db.commit()
    db.close()


def test_a_version_6_journal_migrates_without_loss(tmp_path: Path) -> None:
    path = tmp_path / "v6.sqlite3"
    _version_6_journal(path)

    journal = Journal(path)
    try:
        (old,) = journal.all()
        assert journal._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7
        assert (old.settings.prompt, old.settings.seed, old.job_id, old.credit_cost,
                old.video_path, old.parent_id) == ("old one", 9, "job-1", 8, "/v/a.mp4", None)
        child = journal.add(FIRST, parent_id=old.id)
        assert journal.require(child.id).parent_id == old.id
        assert SequenceStore(journal).all() == []
    finally:
        journal.close()


def test_shots_keep_their_order_and_move(journal: Journal) -> None:
    store = SequenceStore(journal)
    made = store.create("film", [("one", SettingsChanges(duration=10)), ("two", SettingsChanges()),
                                 ("three", SettingsChanges(seed=5))])
    assert [s.prompt for s in made.shots] == ["one", "two", "three"]
    assert made.shots[0].changes == SettingsChanges(duration=10)
    assert made.run_state is RunState.IDLE
    one, two, three = (s.id for s in made.shots)
    store.move_shot(three, one)
    assert [s.prompt for s in store.require(made.id).shots] == ["three", "one", "two"]
    store.move_shot(three, None)
    assert [s.prompt for s in store.require(made.id).shots] == ["one", "two", "three"]
    added = store.add_shot(made.id, "between", SettingsChanges(), before_shot_id=two)
    assert [s.prompt for s in store.require(made.id).shots] == ["one", "between", "two", "three"]
    store.remove_shot(added.id)
    store.edit_shot(two, prompt="two, again", changes=SettingsChanges(aspect_ratio="9:16"))
    shots = store.require(made.id).shots
    assert [s.prompt for s in shots] == ["one", "two, again", "three"]
    assert shots[1].changes.aspect_ratio == "9:16"


def test_a_take_is_written_with_its_link_and_made_once(journal: Journal) -> None:
    store = SequenceStore(journal)
    sequence = store.create("film", [("one", SettingsChanges()), ("two", SettingsChanges())])
    shot = sequence.shots[1].id
    take, new = store.add_take(shot, FIRST, only_if_unchosen=True, parent_id=None)
    assert new
    assert take.stage is Stage.PENDING
    again, new_again = store.add_take(shot, FIRST, only_if_unchosen=True, parent_id=None)
    assert (again.id, new_again) == (take.id, False)  # a second run (or process) makes none
    assert len(journal.all()) == 1
    # A re-run adds a take and chooses it; the old one can be chosen back.
    second, _ = store.add_take(shot, FIRST.with_seed(4))
    current = store.require(sequence.id).shots[1]
    assert current.takes == (take.id, second.id)
    assert current.chosen_id == second.id
    store.choose(shot, take.id)
    assert store.require(sequence.id).shots[1].chosen_id == take.id
    with pytest.raises(KeyError):
        store.choose(shot, 999)
    assert store.sequences_of(take.id) == [sequence.id]


def test_a_take_removed_from_the_history_leaves_its_shot_unmade(journal: Journal) -> None:
    store = SequenceStore(journal)
    sequence = store.create("film", [("one", SettingsChanges())])
    take, _ = store.add_take(sequence.shots[0].id, FIRST)
    journal.remove(take.id)
    shot = store.require(sequence.id).shots[0]
    assert (shot.takes, shot.chosen_id) == ((), None)


def test_a_plan_source_finds_its_unfinished_sequence(journal: Journal) -> None:
    store = SequenceStore(journal)
    first = store.create("a", [("one", SettingsChanges())], source="plan.json#sha256:1")
    assert store.unfinished_from("plan.json#sha256:1") == first
    # A second command starting the same plan meanwhile gets the same sequence.
    assert store.create("a", [("one", SettingsChanges())], source="plan.json#sha256:1") == first
    assert len(store.all()) == 1
    store.set_run_state(first.id, RunState.RUNNING)
    assert store.ids_in_state(RunState.RUNNING) == [first.id]
    store.set_run_state(first.id, RunState.DONE)
    assert store.unfinished_from("plan.json#sha256:1") is None  # done: a new run is a new film
    store.remove(first.id)
    assert store.get(first.id) is None


def test_processes_opening_a_version_6_history_at_once_migrate_it_once(tmp_path: Path) -> None:
    """Schema 7 adds a column and three tables: four processes opening an old history at
    once must each get it (the step runs once, under the write lock), the rows intact."""
    from tests.engine.test_journal_concurrent_open import _open_at_once

    for round_ in range(3):
        path = tmp_path / f"round{round_}" / "journal.sqlite3"
        path.parent.mkdir()
        _version_6_journal(path)
        assert _open_at_once(path) == ["ok"] * 4
        journal = Journal(path)
        try:
            assert [g.idempotency_key for g in journal.all()] == ["k1"]
            assert journal._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        finally:
            journal.close()


def test_a_done_sequence_whose_take_left_the_history_reads_as_not_done(journal: Journal) -> None:
    """A finished take removed from the history (Remove in the queue) leaves its shot not
    made: the sequence isn't DONE any more (`sequence list` said "done 1/2 shots", the window
    offered Run under a DONE state)."""
    store = SequenceStore(journal)
    first = journal.add(GenerationSettings("a", seed=1), stage=Stage.DONE)
    second = journal.add(GenerationSettings("b", seed=2), stage=Stage.DONE)
    sequence = store.create("s", [("a", SettingsChanges()), ("b", SettingsChanges())],
                            first_take=first.id)
    store.link_take(sequence.shots[1].id, second.id)
    store.set_run_state(sequence.id, RunState.DONE)
    assert store.require(sequence.id).run_state is RunState.DONE

    journal.remove(second.id)

    after = store.require(sequence.id)
    assert after.shots[1].chosen_id is None
    assert after.run_state is RunState.IDLE
    assert store.ids_in_state(RunState.RUNNING) == []


def test_a_name_is_cleaned_for_one_line_and_an_empty_or_overlong_one_refused() -> None:
    assert sequence_name("  Night\n shoot\t at the\u00a0pier  ") == "Night shoot at the pier"
    assert sequence_name("\x1b[1mBold\x07 cut") == "[1mBold cut"  # no terminal escapes
    assert sequence_name("Ünïcode 🎬 ok") == "Ünïcode 🎬 ok"
    for empty in ("", "   ", "\n\t", "\x00\x1b"):
        with pytest.raises(SequenceRefused, match="needs a name"):
            sequence_name(empty)
    assert sequence_name("x" * MAX_NAME) == "x" * MAX_NAME
    with pytest.raises(SequenceRefused, match=f"{MAX_NAME + 1} characters"):
        sequence_name("x" * (MAX_NAME + 1))


def test_rename_writes_the_name_and_a_missing_sequence_is_a_key_error(journal: Journal) -> None:
    store = SequenceStore(journal)
    sequence = store.create("test plan", [("one", SettingsChanges())])
    store.rename(sequence.id, "Lighthouse")
    after = store.require(sequence.id)
    assert after.name == "Lighthouse"
    assert after.updated_at >= sequence.updated_at  # other processes' watches see it
    with pytest.raises(KeyError):
        store.rename(sequence.id + 1, "nothing")


def _two_shots_with_takes(journal: Journal, tmp_path: Path) -> tuple[SequenceStore, int, list[int]]:
    """A sequence of two shots: shot 1 has two finished takes (videos on disk, the second
    chosen), shot 2 one take still being made."""
    store = SequenceStore(journal)
    videos = [tmp_path / f"{n}.mp4" for n in range(2)]
    for video in videos:
        video.write_bytes(b"mp4")
    first = journal.add(GenerationSettings("a", seed=1), stage=Stage.DONE,
                        video_path=str(videos[0]))
    sequence = store.create("test plan", [("a", SettingsChanges()), ("b", SettingsChanges())],
                            first_take=first.id, source="plan.yaml#sha256:1")
    second = journal.add(GenerationSettings("a", seed=2), stage=Stage.DONE,
                         video_path=str(videos[1]))
    store.link_take(sequence.shots[0].id, second.id)
    making, _ = store.add_take(sequence.shots[1].id, GenerationSettings("b", seed=3))
    return store, sequence.id, [first.id, second.id, making.id]


def test_removing_a_sequence_keeps_its_takes_and_restore_puts_it_back_as_it_was(
        journal: Journal, tmp_path: Path) -> None:
    store, sequence_id, takes = _two_shots_with_takes(journal, tmp_path)
    store.set_run_state(sequence_id, RunState.STOPPED, "Stopped with 1 of 2 shots made.")
    before = store.require(sequence_id)
    kept = KeptTakes.of(journal.get(i) for shot in before.shots for i in shot.takes)
    assert kept == KeptTakes(takes=3, videos=2, making=1)

    removed = store.remove(sequence_id)

    assert removed.sequence == before
    assert store.get(sequence_id) is None
    assert store.all() == []
    assert store.take_ids() == set()  # no link left: Clear finished may take them now
    assert [g.id for g in journal.all()] == takes  # the generations stay in the history
    assert all(Path(v).is_file() for g in journal.all() if (v := g.video_path))
    with pytest.raises(KeyError):
        store.remove(sequence_id)
    later = store.create("another", [("c", SettingsChanges())])
    assert later.id > sequence_id  # ids are never given again: Undo can restore the old one

    restored = store.restore(removed)

    assert restored == replace(before, updated_at=restored.updated_at)
    assert restored.updated_at >= before.updated_at
    assert store.unfinished_from("plan.yaml#sha256:1") == restored  # its plan carries it on
    assert store.restore(removed) == restored  # twice: nothing more
    assert [s.id for s in store.all()] == [sequence_id, later.id]


def test_a_take_that_became_another_sequences_stays_there_on_restore(
        journal: Journal, tmp_path: Path) -> None:
    store, sequence_id, (first, second, _making) = _two_shots_with_takes(journal, tmp_path)
    removed = store.remove(sequence_id)
    other = store.create("from the clip", [("a", SettingsChanges())], first_take=second)

    restored = store.restore(removed)

    assert restored.shots[0].takes == (first,)
    assert restored.shots[0].chosen_id is None  # its chosen take is the other sequence's now
    assert store.require(other.id).shots[0].chosen_id == second


def test_a_running_sequence_is_not_removed_unless_nobody_runs_it(
        journal: Journal, tmp_path: Path) -> None:
    store, sequence_id, takes = _two_shots_with_takes(journal, tmp_path)
    store.set_run_state(sequence_id, RunState.RUNNING)

    with pytest.raises(SequenceRunning) as refused:
        store.remove(sequence_id)

    assert refused.value.message == ("“test plan” is running: its shots are being made (and "
                                     "paid for). Stop it first, then delete it.")
    assert store.require(sequence_id).run_state is RunState.RUNNING  # nothing changed
    assert store.take_ids() == set(takes)
    store.remove(sequence_id, even_if_running=True)  # its process ended: nothing runs it
    assert store.all() == []
    assert len(journal.all()) == 3


def test_a_clip_that_is_a_take_already_starts_no_second_sequence(journal: Journal) -> None:
    """A generation is a take of one shot only (takes.generation_id is UNIQUE): "New Sequence
    from Clip" on a take of another sequence made a sequence whose first shot read "not made
    yet" (the link was silently ignored), so Run would have made and paid for it again."""
    store = SequenceStore(journal)
    clip = journal.add(GenerationSettings("a", seed=1), stage=Stage.DONE)
    first = store.create("first", [("a", SettingsChanges())], first_take=clip.id)

    with pytest.raises(SequenceRefused, match=r"already a take of “first”"):
        store.create("second", [("a", SettingsChanges())], first_take=clip.id)

    assert store.all() == [first]  # nothing half-made
    store.remove(first.id)
    again = store.create("second", [("a", SettingsChanges())], first_take=clip.id)
    assert again.shots[0].chosen_id == clip.id  # once that sequence is deleted, it may


def test_a_failed_take_sent_again_has_its_copy_adopted_by_its_shot(journal: Journal) -> None:
    """Retry of a failed take makes a copy outside the sequence (commands.py): the copy joins
    the same shot, chosen while the failed take is, and a later shot made from an older take
    of that shot stays marked outdated, as after any new take."""
    from runway_desktop.engine.sequences import outdated_shots

    store = SequenceStore(journal)
    sequence = store.create("Bay", [("dawn", SettingsChanges()), ("noon", SettingsChanges()),
                                    ("dusk", SettingsChanges())])
    one, two, three = (shot.id for shot in sequence.shots)
    first, _ = store.add_take(one, FIRST)
    old, _ = store.add_take(two, FIRST, parent_id=first.id)
    store.add_take(three, FIRST, parent_id=old.id)
    failed, _ = store.add_take(two, FIRST, parent_id=first.id)  # a new take, failed
    store.set_run_state(sequence.id, RunState.STOPPED,
                        f"Shot 2 (#{failed.id}) stopped (failed). Make a new take of it, then "
                        "run the sequence again.")
    copy = journal.add(FIRST, parent_id=first.id)

    assert store.adopt_copy(failed.id, copy.id) == sequence.id

    now = store.require(sequence.id)
    assert now.shots[1].takes == (old.id, failed.id, copy.id)
    assert now.shots[1].chosen_id == copy.id
    assert now.error == (f"Shot 2's failed take #{failed.id} was sent again as #{copy.id}, now "
                         "its take: Run carries on from there.")
    assert outdated_shots(now, journal.get) == {2: 1}
    # Once only, and never a take of two shots; a failure that isn't a take: nothing.
    assert store.adopt_copy(failed.id, copy.id) is None
    assert store.adopt_copy(journal.add(FIRST).id, journal.add(FIRST).id) is None
    # Another take chosen since the failure: the copy joins the shot, the choice stays.
    store.choose(two, old.id)
    later = journal.add(FIRST, parent_id=first.id)
    assert store.adopt_copy(failed.id, later.id) == sequence.id
    assert store.require(sequence.id).shots[1].chosen_id == old.id
    assert later.id in store.require(sequence.id).shots[1].takes
