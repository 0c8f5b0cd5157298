"""`runway-desktop resume` acts where the lifecycle table allows and nowhere else: a history with a
row in every stage, resumed against the simulator by the real command in a subprocess."""

from __future__ import annotations

import time
from pathlib import Path

from runway_desktop.engine.journal import Journal
from runway_desktop.engine.lifecycle_table import Command, Stage, allowed_commands
from runway_desktop.engine.records import Action, Generation, GenerationSettings
from runway_desktop.simulator import Simulator
from tests.helpers.cli import cli_env, journal_file, run_cli

# (stage, fields) of each row: the facts a row in that stage has.
ROWS: list[tuple[Stage, dict[str, object]]] = [
    (Stage.PENDING, {}),
    (Stage.PREPARING, {}),  # a crash mid-way: prepared again
    (Stage.ATTENTION, {"action": Action.RETRY, "error": "apiframe didn't answer"}),
    (Stage.ATTENTION, {"action": Action.EDIT_INPUT, "error": "fix the prompt"}),
    (Stage.FAILED, {"job_id": "a8a8a8a8-0000-4000-8000-000000000001", "credit_cost": 0,
                    "submitted_at": 1.0, "error": "refunded"}),
    (Stage.ABANDONED, {"submitted_at": 1.0, "error": "No longer followed."}),
    (Stage.CANCELLED, {}),
    (Stage.DONE, {"job_id": "a8a8a8a8-0000-4000-8000-000000000002", "credit_cost": 8,
                  "submitted_at": 1.0, "video_path": "/nowhere/kept.mp4"}),
]


def test_resume_carries_on_exactly_what_the_table_lets_it(
    simulator: Simulator, tmp_path: Path, output_dir: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    journal = Journal(journal_file(data))
    try:
        before: list[Generation] = [
            journal.add(GenerationSettings(f"row {i} {stage}", seed=i), stage=stage,
                        output_dir=str(output_dir), **fields)
            for i, (stage, fields) in enumerate(ROWS)
        ]
    finally:
        journal.close()
    # What resume touches: unfinished rows; of those it retries what the table allows (except
    # input the person must change), and waits for the rest to move on by themselves.
    carried_on = {g.id for g in before if not g.stage.is_terminal
                  and (Command.RETRY in allowed_commands(g) or not g.stage.is_settled)
                  and g.action != Action.EDIT_INPUT}
    left_alone = {g.id for g in before} - carried_on

    started = time.time()
    result = run_cli("resume", "--json", env=cli_env(simulator.base_url, data, tmp_path / "home"),
                     timeout=120)
    assert result.code == 0, str(result)
    assert {row["id"] for row in result.json_lines()} == carried_on
    # The one waiting for a change is named with why, not passed over in silence.
    edit = next(g for g in before if g.action == Action.EDIT_INPUT)
    assert (f"runway-desktop: #{edit.id} is left as it is: fix the prompt. Make it again with "
            "changed settings (`runway-desktop generate`).") in result.stderr.splitlines()
    assert all(row["status"] == "done" for row in result.json_lines()), str(result)

    journal = Journal(journal_file(data))
    try:
        after = {g.id: g for g in journal.all()}
    finally:
        journal.close()
    for generation in before:
        if generation.id in left_alone:
            # Untouched: same stage, same facts, no new job.
            assert after[generation.id].stage is generation.stage
            assert after[generation.id].job_id == generation.job_id
            assert after[generation.id].updated_at < started
    assert len(after) == len(before)  # nothing re-submitted as a new generation
    assert simulator.jobs_created("afk_test") == len(carried_on)
