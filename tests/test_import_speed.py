"""runway_desktop/import_speed.py: PySide6 no longer reads the source of each module imported
after it, and modules still get the feature selection they had (none)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, linecache, sys
sys.path.insert(0, sys.argv[1])
import PySide6.QtCore
from runway_desktop.import_speed import skip_pyside_feature_scan
skipped = skip_pyside_feature_scan() if sys.argv[2] == "skip" else False
import plain_module, qt_module
feature = sys.modules["shibokensupport.feature"]
selections = getattr(feature, "pyside_feature_dict", {})
from PySide6.QtCore import QObject
thing = QObject()
thing.setObjectName("named")  # camelCase: no snake_case feature switched on
print(json.dumps({
    "skipped": skipped,
    "sources_read": sorted(n for n in ("plain_module", "qt_module")
                           if any(f.endswith(n + ".py") for f in linecache.cache)),
    "selections": {n: selections.get(n) for n in ("plain_module", "qt_module")},
    "name": thing.objectName(),
}))
"""


def probe(tmp_path: Path, mode: str) -> dict[str, object]:
    (tmp_path / "plain_module.py").write_text("VALUE = 1\n")
    (tmp_path / "qt_module.py").write_text("from PySide6.QtCore import QObject\n")
    out = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path), mode],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    result: dict[str, object] = json.loads(out)
    return result


def test_pyside_reads_every_later_modules_source_unless_told_not_to(tmp_path: Path) -> None:
    before = probe(tmp_path, "keep")
    if before["sources_read"] != ["plain_module", "qt_module"]:
        pytest.skip(f"this PySide6 doesn't scan imported modules: {before}")
    assert before["selections"] == {"plain_module": -1, "qt_module": 0}

    after = probe(tmp_path, "skip")
    assert after["skipped"] is True
    assert after["sources_read"] == []
    # No feature for any module, as the qt_module had before; PySide6 still plain camelCase.
    assert after["selections"] == {"plain_module": 0, "qt_module": 0}
    assert after["name"] == "named"


def test_without_pyside_imported_nothing_is_changed() -> None:
    code = ("import sys; from runway_desktop.import_speed import skip_pyside_feature_scan; "
            "print(skip_pyside_feature_scan(), 'shibokensupport.feature' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    assert out == ["False", "False"]
