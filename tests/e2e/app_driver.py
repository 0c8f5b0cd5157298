"""The real app (`runway_desktop.app.main`), steered line by line on stdin, for tests that kill it.

Each line is one step done on the GUI thread: `state`, `prompt <text>`, `image <path>`,
`zoom <factor>`, `resize <w> <h>`, `generate`, `remove`, `quit`; each is answered with a line on
stdout, JSON: what the window shows (rows, banner, composition, size). A test can SIGKILL the
process between any two.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from PySide6.QtCore import QSocketNotifier
from PySide6.QtWidgets import QApplication

app = QApplication([sys.argv[0]])


def controller() -> Any:
    # app.main makes sys.excepthook the controller's report_unexpected: the one way in.
    owner = getattr(sys.excepthook, "__self__", None)
    return owner if hasattr(owner, "window") else None


def shown(c: Any) -> dict[str, Any]:
    if c is None:
        return {"ready": False}
    w = c.window
    banner = w.banner
    from runway_desktop.ui.state_keeper import StateKeeper

    keeper = w.findChild(StateKeeper)
    return {
        "ready": c.engine is not None and c.start_finished,
        "rows": [{"id": g.id, "stage": g.stage.value, "progress": g.progress,
                  "video": g.video_path} for g in w.queue.model.generations()],
        "banner": banner.message.text() if banner.isVisible() else None,
        "notice": w.notice_banner.message.text() if w.notice_banner.isVisible() else None,
        "prompt": w.compose.prompt_edit.toPlainText(),
        "images": w.compose.drop_zone.images(),
        "frame": (frame.to_json() if (frame := w.compose.drop_zone.frame()) else None),
        "composition_kept": keeper is not None and keeper.idle(),
        "size": [w.width(), w.height()],
    }


def step(line: str) -> None:
    command, _, argument = line.partition(" ")
    c = controller()
    if c is not None:
        compose = c.window.compose
        if command == "prompt":
            compose.prompt_edit.setPlainText(argument)
        elif command == "image":
            compose.drop_zone.set_images([argument])
        elif command == "zoom":
            compose.drop_zone.canvas.editor.zoom_by(float(argument))
        elif command == "resize":
            width, height = map(int, argument.split())
            c.window.resize(width, height)
        elif command == "generate":
            compose.generate()
        elif command == "remove":  # the first row, its video to the Trash (one row: no question)
            rows = c.window.queue.model.generations()
            c.window._request_remove([rows[0].id], True)
        elif command == "quit":
            c.window._quit_confirmed = True
            c.window.close()
    sys.stdout.write(json.dumps(shown(c)) + "\n")
    sys.stdout.flush()


pending = b""


def readable() -> None:
    global pending
    pending += os.read(0, 65536)
    while b"\n" in pending:
        line, pending = pending.split(b"\n", 1)
        step(line.decode())


notifier = QSocketNotifier(0, QSocketNotifier.Type.Read)
notifier.activated.connect(readable)

from runway_desktop.app import main  # noqa: E402  (after the QApplication above)

sys.exit(main(sys.argv[1:]))
