"""PyInstaller's entry script: the same `main` as the `runway-desktop` console script."""

from __future__ import annotations

import sys

from runway_desktop.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
