"""Skip PySide6's source scan of every module imported after it (~15 ms of each start).

Importing PySide6.QtCore replaces `builtins.__import__` to support its opt-in
`from __feature__ import snake_case, true_property`. After each new module it then asks
`shibokensupport.feature._mod_uses_pyside(module)`, which reads the module's whole source
(`inspect.getsource`) to look for the word "PySide6" — ~170 files before the window paints,
~15 ms measured (tests/test_import_speed.py checks the behaviour, benchmarks the time). The
answer only picks a module's default feature selection: 0 ("no feature") if it uses PySide6,
-1 ("ignore") if not. This app selects no feature anywhere, so 0 for every module is the same
behaviour without the reading. If a PySide6 release moves this internal, nothing is changed.
"""

from __future__ import annotations

import sys


def skip_pyside_feature_scan() -> bool:
    """Answer PySide6's per-import question without reading sources; True if it was there to
    answer (PySide6 imported, the internal where 6.11 has it)."""
    feature = sys.modules.get("shibokensupport.feature")
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    feature._mod_uses_pyside = _uses_no_feature  # type: ignore[attr-defined]
    return True


def _uses_no_feature(_module: object) -> bool:
    return True  # selection 0: no feature, what every module of this app has
