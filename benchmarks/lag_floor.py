"""The responsiveness floor: the same lag probe in a bare PySide6 + qasync window doing nothing.

    python benchmarks/lag_floor.py --out floor.json --stop-file stop

It runs beside the app during the responsiveness benchmark, so both see the same machine: the
other processes, the simulator serving 1 GB, the disk. Its lag is what the machine alone costs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

from benchmarks.app_driver import LagProbe


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--start-file", type=Path, help="probe only once this file exists")
    parser.add_argument("--stop-file", type=Path, required=True)
    args = parser.parse_args(argv)
    app = QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = QMainWindow()
    window.resize(1280, 800)
    window.show()
    probe = LagProbe(10)
    check = QTimer()

    def stop_when_asked() -> None:
        if not probe.active and (args.start_file is None or args.start_file.exists()):
            probe.start()
        if args.stop_file.exists():
            probe.stop()
            args.out.write_text(json.dumps({"lag": probe.summary(), "samples": probe.samples}))
            app.quit()

    check.timeout.connect(stop_when_asked)
    check.start(100)
    with loop:
        loop.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
