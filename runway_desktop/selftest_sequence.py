"""The self-test's sequence check: a two-shot plan, written as YAML, runs through the real
engine against the built-in simulator — the second shot starts from the first shot's exact
last frame and records it as its parent. It proves where it runs (the frozen bundle too) that
PyYAML is there, that Extend's last frame decodes inside the engine, and that the journal's
sequences work.
"""

from __future__ import annotations

from pathlib import Path


async def check_sequence(workdir: Path) -> str:
    from PIL import Image

    from runway_desktop import paths
    from runway_desktop.engine.journal import Journal
    from runway_desktop.engine.lifecycle import EngineConfig
    from runway_desktop.engine.records import Stage
    from runway_desktop.engine.retry import Backoff, PollSchedule
    from runway_desktop.engine.scheduler import Engine
    from runway_desktop.engine.sequence_plan import load_plan
    from runway_desktop.engine.sequence_records import RunState
    from runway_desktop.engine.sequences import SequenceService
    from runway_desktop.selftest import CheckFailed
    from runway_desktop.simulator import Simulator, SimulatorConfig

    folder = workdir / "sequence"
    data, videos = folder / "data", folder / "videos"
    videos.mkdir(parents=True)
    Image.new("RGB", (640, 360), (40, 160, 90)).save(folder / "start.png")
    plan_file = folder / "plan.yaml"
    plan_file.write_text("name: self-test\nseed: 3\nshots:\n"
                         "  - prompt: 'self-test: a meadow'\n    image: start.png\n"
                         "  - 'self-test: the wind rises'\n", encoding="utf-8")
    plan = load_plan(plan_file)
    with Simulator(SimulatorConfig(seconds_per_job=0.3, seed=2)) as sim:
        journal = Journal(data / "journal.sqlite3")
        config = EngineConfig(data_dir=data, output_dir=videos, base_url=sim.base_url,
                              poll=PollSchedule(first=0.05, factor=1.5, cap=0.2),
                              backoff=Backoff(base=0.05, cap=0.5, attempts=4))
        engine = Engine(journal, config, "afk_test")
        try:
            await engine.start()
            service = SequenceService(engine, wait_s=30)
            sequence = await service.run_plan(plan)
            takes = [service.chosen(shot) for shot in sequence.shots]
            jobs = sim.jobs_created("afk_test")
        finally:
            await engine.stop()
            journal.close()
    if sequence.run_state != RunState.DONE:
        raise CheckFailed(f"the sequence ended {sequence.run_state.value}: {sequence.error}")
    first, second = takes
    if first is None or second is None or second.stage != Stage.DONE:
        raise CheckFailed("the second shot wasn't made")
    start = paths.last_frames_dir(data) / f"{first.id}.png"
    if second.parent_id != first.id or second.settings.image_path != str(start):
        raise CheckFailed(f"shot 2 doesn't start from shot 1's last frame ({second})")
    if jobs != 2:
        raise CheckFailed(f"{jobs} server jobs for two shots")
    with Image.open(start) as frame:
        size = frame.size
    return (f"a YAML plan of 2 shots ran; shot 2 started from shot 1's last frame "
            f"({size[0]}x{size[1]} PNG) and names it as its parent")
