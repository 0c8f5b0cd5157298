"""Put an image on the X clipboard and keep serving it (X11 clipboards live in their owner).

Usage: python clipboard_owner.py IMAGE.png   — prints "ready" once it owns the clipboard.
"""

from __future__ import annotations

import sys

from PySide6.QtGui import QGuiApplication, QImage


def main() -> int:
    app = QGuiApplication(sys.argv[:1])
    image = QImage(sys.argv[1])
    if image.isNull():
        return 1
    app.clipboard().setImage(image)
    print("ready", flush=True)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
