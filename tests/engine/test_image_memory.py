"""Issue 11's measured image cases as tests: a 13000 × 13000 RGBA PNG of 657 KB took 2.3 GB of
RSS and 24 s with Pillow's DecompressionBombWarning printed raw; 200 MB images took 0.78 GB.
Each is prepared (or refused with a message) in a fresh process, whose peak RSS must stay under
the 300 MB target with nothing on stderr. The files are made as benchmarks/bench_images.py makes
them (row by row, never holding their pixels); its table reports the same figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import bench_images

TARGET_MB = bench_images.TARGET_MB


@pytest.mark.parametrize(("case", "outcome"), [
    ("flat_rgba_13000", "refused"),
    ("noise_png_200mb", "prepared"),  # 67 megapixels: read in bands (png_bands)
    ("noise_jpeg_200mb", "prepared"),
])
def test_a_huge_image_is_prepared_or_refused_in_under_300_mb(
        tmp_path: Path, case: str, outcome: str) -> None:
    make, _what = bench_images.CASES[case]
    source = tmp_path / f"{case}{'.jpg' if 'jpeg' in case else '.png'}"
    make(source)
    result = bench_images.measure_in_child(source, tmp_path / "work")
    assert result["outcome"] == outcome, result
    if outcome == "refused":
        assert "too many pixels" in result["message"]
        assert "megapixels" in result["message"]
    assert result["peak_rss_mb"] < TARGET_MB, result
    assert result["stderr"] == ""  # no raw DecompressionBombWarning or other noise
