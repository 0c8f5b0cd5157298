"""The progress a PROCESSING job reports (simulator/progress.py)."""

from __future__ import annotations

import pytest

from runway_desktop.simulator.progress import ProgressShape, progress_at

JOB = "6f1c3a52-0d5e-4a43-9a55-0d2e8f3f7b11"
OTHER = "0b7c9e4d-2a61-4c55-8f0e-3d1a2b3c4d5e"


def values(shape: ProgressShape, job: str = JOB, span: float = 40.0) -> list[int]:
    return [progress_at(shape, job, 10.0, span, 10.0 + i / 10) for i in range(int(span * 10))]


def test_the_plain_shape_is_a_line_to_99() -> None:
    assert progress_at(ProgressShape(), JOB, 10.0, 40.0, 10.0) == 0
    assert progress_at(ProgressShape(), JOB, 10.0, 40.0, 30.0) == 50
    assert progress_at(ProgressShape(), JOB, 10.0, 40.0, 49.99) == 99
    assert progress_at(ProgressShape(), JOB, 10.0, 40.0, 60.0) == 99  # COMPLETED says 100


def test_steps_change_only_every_refresh() -> None:
    seen = values(ProgressShape(refresh_seconds=5))
    assert sorted(set(seen)) == [0, 12, 25, 37, 50, 62, 75, 87]
    for i in range(0, len(seen), 50):  # constant within each 5 s step
        assert len(set(seen[i:i + 50])) == 1


@pytest.mark.parametrize("wobble", [0.3, 1.0])
def test_a_varying_pace_never_goes_back_and_differs_between_jobs(wobble: float) -> None:
    shape = ProgressShape(wobble=wobble)
    mine, other = values(shape), values(shape, OTHER)
    assert mine == sorted(mine)
    assert other == sorted(other)
    assert mine[0] == 0
    assert mine[-1] == 99
    assert mine != other
    assert mine != values(ProgressShape())


def test_nonsense_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="refresh_seconds"):
        ProgressShape(refresh_seconds=-1)
    with pytest.raises(ValueError, match="wobble"):
        ProgressShape(wobble=1.5)
