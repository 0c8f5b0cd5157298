"""What goes into the frozen app: shared by runway_desktop.spec, build.py and the size benchmark.

Kept free of PyInstaller imports at module level so build.py and the tests can read the version,
the paths and the lists without PyInstaller; `prune()` imports it only when the spec runs.

Two bundles are made "the same way" from this file: the app, and (for the size benchmark) a
minimal PySide6 + QtMultimedia window. The same excludes and the same pruning apply to both.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
DIST = BUILD / "dist"
WORK = BUILD / "work"
SPEC = BUILD / "runway_desktop.spec"
RESOURCES = ROOT / "resources"
NOTICES = ROOT / "THIRD_PARTY_NOTICES.txt"
LICENCE_TEXTS = BUILD / "licenses"  # full texts no wheel carries (LGPL/GPL for Qt and FFmpeg)

APP_NAME = "Runway Desktop"
EXE_NAME = "runway-desktop"  # the folder and the executable (console on Windows: CLI + self-test)
WINDOWED_EXE_NAME = "RunwayDesktop"  # Windows only: the Start-menu target, no console window
BUNDLE_ID = "ai.runwaydesktop.app"
PUBLISHER = "Runway Desktop developers"

# The Python half of Qt the app imports; every other PySide6 module is excluded by name.
QT_MODULES_KEPT = frozenset(
    {"QtCore", "QtGui", "QtWidgets", "QtMultimedia", "QtMultimediaWidgets", "QtNetwork",
     "QtSvg"}  # QtSvg: the interface icons (ui/icons.py)
)

# Python packages that come in only through optional imports and that the app never uses.
PY_EXCLUDES = (
    "tkinter", "_tkinter", "turtle", "idlelib", "lib2to3", "pydoc_data", "test", "unittest",
    # httpx imports its command line (click, rich, pygments) only when they are installed.
    "click", "rich", "pygments", "httpx._main",
    # Pillow parts the app never touches: fonts (freetype, harfbuzz), colour management (lcms2),
    # Tk and Qt glue. Image.init() skips a plugin that fails to import. (AVIF stays: people's
    # photos come as AVIF, engine/images.py converts them.)
    "PIL._imagingft", "PIL.ImageFont", "PIL._imagingcms",
    "PIL.ImageCms", "PIL._imagingtk", "PIL.ImageTk", "PIL.ImageQt", "PIL.ImageShow",
    "PIL.ImageGrab", "numpy",
    # PySide6's own tooling and asyncio glue (we use qasync).
    "PySide6.scripts", "PySide6.QtAsyncio",
    # PyYAML's libyaml binding (2.7 MB): sequence plans are a few lines, its pure-Python
    # parser (what `yaml.safe_load` falls back to) reads them just as well.
    "yaml._yaml", "_yaml", "yaml.cyaml",
    # Only concurrent.futures' ProcessPoolExecutor imports multiprocessing, and nothing here
    # uses it; bundled, PyInstaller's multiprocessing run-time hook imports it (~17 ms) before
    # the app's first line runs (startup benchmark, frozen).
    "multiprocessing", "concurrent.futures.process",
)

# Qt plugins dropped whatever the hooks collect: {plugin type: file stems without "lib" and
# suffix, or None for the whole type}. `qpdf` pulls in QtPdf, `qgtk3` pulls GTK from the build
# host, the embedded-Linux platforms pull EGL device integrations, the virtual keyboard pulls
# QtVirtualKeyboard; QtNetwork's TLS and network-information plugins are unused (httpx does TLS).
QT_PLUGINS_DROPPED: dict[str, set[str] | None] = {
    "platforms": {"qeglfs", "qlinuxfb", "qvnc", "qvkkhrdisplay", "qminimalegl"},
    "imageformats": {"qpdf"},
    "platformthemes": {"qgtk3"},
    "platforminputcontexts": {"qtvirtualkeyboardplugin"},
    "tls": {"qopensslbackend"},
    "egldeviceintegrations": None,
    "networkinformation": None,
    "generic": None,
}
# Plugins the app needs, checked after the build (and by the self-test at run time).
_IMAGE_PLUGINS = {"qjpeg", "qwebp", "qgif", "qtiff"}
QT_PLUGINS_REQUIRED = {
    "linux": {"platforms": {"qoffscreen", "qxcb", "qwayland"},
              "multimedia": {"ffmpegmediaplugin"}, "imageformats": _IMAGE_PLUGINS},
    "win32": {"platforms": {"qoffscreen", "qwindows"}, "multimedia": {"ffmpegmediaplugin"},
              "imageformats": _IMAGE_PLUGINS},
    "darwin": {"platforms": {"qoffscreen", "qcocoa"}, "multimedia": {"ffmpegmediaplugin"},
               "imageformats": _IMAGE_PLUGINS},
}
# Qt libraries that must never be in the bundle; build.py fails if one is found.
QT_FORBIDDEN = ("WebEngine", "Quick3D", "3D", "Charts", "DataVisualization", "Pdf", "Designer",
                "QuickControls2", "Graphs", "Location", "Scxml", "Sensors", "Bluetooth",
                "RemoteObjects", "SerialPort", "TextToSpeech", "Help", "UiTools")

_QT_LIB = re.compile(r"^(lib)?Qt6[A-Za-z0-9]+(\.so[.0-9]*|\.dll)$|^Qt[A-Za-z0-9]+$", re.IGNORECASE)


def platform_key() -> str:
    if sys.platform.startswith("linux"):
        return "linux"
    return "darwin" if sys.platform == "darwin" else "win32"


def project_version() -> str:
    """The one version: `[project] version` in pyproject.toml."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]["version"]


def numeric_version(version: str) -> tuple[int, int, int, int]:
    """1.2.3rc1 → (1, 2, 3, 0): what Windows version resources and Info.plist accept."""
    parts = [int(re.findall(r"^\d*", p)[0] or 0) for p in version.split(".")[:4]]
    return (*parts, 0, 0, 0, 0)[:4]  # type: ignore[return-value]


def qt_modules_excluded() -> list[str]:
    """Every PySide6 extension module of the installed wheels that the app does not import."""
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(next(iter(spec.submodule_search_locations)))
    names = {p.name.split(".")[0] for p in folder.iterdir()
             if p.name.startswith("Qt") and p.suffix in (".so", ".pyd")}
    return sorted(f"PySide6.{n}" for n in names - QT_MODULES_KEPT)


def licence_datas() -> list[tuple[str, str]]:
    """(source, bundle folder) for every licence file of the distributions the app ships.

    The texts come from each wheel's metadata, so they match the exact versions bundled; Qt and
    FFmpeg (whose wheels carry none) get the LGPL/GPL texts kept in build/licenses/.
    """
    from importlib.metadata import PackageNotFoundError, distribution

    datas: list[tuple[str, str]] = []
    names = ("httpx", "httpcore", "h11", "anyio", "idna", "sniffio", "certifi", "qasync",
             "keyring", "jaraco.classes", "jaraco.context", "jaraco.functools", "more-itertools",
             "platformdirs", "pillow", "pi-heif", "send2trash", "truststore", "pyyaml",
             "secretstorage", "jeepney", "cryptography", "cffi", "pycparser", "pywin32-ctypes",
             "importlib-metadata", "zipp", "backports.tarfile", "typing-extensions", "shiboken6")
    for name in names:
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        for file in dist.files or ():
            stem = file.name.upper()
            if stem.startswith(("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS")):
                source = Path(str(file.locate()))
                if source.is_file():
                    datas.append((str(source), f"LICENSES/{dist.metadata['Name']}"))
    datas += [(str(p), "LICENSES/Qt-PySide6-FFmpeg") for p in sorted(LICENCE_TEXTS.glob("*.txt"))]
    base = Path(sys.base_prefix)
    for candidate in (base / "LICENSE.txt", base / "lib" / f"python{sys.version_info[0]}."
                      f"{sys.version_info[1]}" / "LICENSE.txt"):
        if candidate.is_file():  # the Python interpreter itself (PSF licence)
            datas.append((str(candidate), "LICENSES/Python"))
            break
    return datas


def app_datas() -> list[tuple[str, str]]:
    datas = [(str(p), "resources/clips") for p in sorted((RESOURCES / "clips").iterdir())
             if p.is_file()]
    # The window icon uses 16-256 px (app.app_icon); the 512/1024 px renders feed .icns/.ico only.
    datas += [(str(p), "resources/icons") for p in sorted((RESOURCES / "icons").glob("*.png"))
              if int(p.stem.rsplit("-", 1)[1]) <= 256]
    # The look (ui/theme.py, ui/icons.py): the style sheet, the icons and their licence.
    datas += [(str(p), f"resources/{p.parent.name}") for folder in ("style", "ui-icons")
              for p in sorted((RESOURCES / folder).iterdir()) if p.is_file()]
    datas.append((str(NOTICES), "."))
    return datas + licence_datas()


def app_hiddenimports() -> list[str]:
    """The keyring backend for this OS, named in code by secrets.py when frozen."""
    key = platform_key()
    if key == "linux":
        return ["keyring.backends.SecretService", "secretstorage", "jeepney.io.blocking"]
    if key == "darwin":
        return ["keyring.backends.macOS", "keyring.backends.macOS.api"]
    return ["keyring.backends.Windows", "win32ctypes.pywin32.pywintypes",
            "win32ctypes.pywin32.win32cred", "win32ctypes.core"]


def excludes() -> list[str]:
    out = [*PY_EXCLUDES, *qt_modules_excluded()]
    if platform_key() == "linux":
        # Nothing reads XML at run time (Pillow imports it for type hints only, jeepney for its
        # code generator). macOS keeps it: platform.mac_ver() reads a plist.
        out += ["xml.etree", "xml.parsers", "xml.sax", "xml.dom", "xmlrpc", "pyexpat",
                "_elementtree", "jeepney.bindgen"]
    else:  # Secret Service (and the crypto it needs) is Linux-only
        out += ["secretstorage", "jeepney", "cryptography", "keyring.backends.SecretService",
                "keyring.backends.libsecret", "keyring.backends.kwallet"]
    return out


def child_env() -> dict[str, str]:
    """The environment for PyInstaller and make_icons.py: offscreen Qt when there's no display."""
    env = dict(os.environ)
    if platform_key() == "linux" and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def run_pyinstaller(*, distpath: Path, workpath: Path, clean: bool = False,
                    minimal_script: Path | None = None) -> None:
    """Run PyInstaller on the spec: the app, or `minimal_script` bundled the same way."""
    import subprocess

    command = [sys.executable, "-m", "PyInstaller", str(SPEC), "--noconfirm",
               "--log-level", "WARN", "--distpath", str(distpath), "--workpath", str(workpath)]
    if clean:
        command.append("--clean")
    env = child_env()
    env.pop("RUNWAY_BUNDLE_MINIMAL", None)
    if minimal_script is not None:
        env["RUNWAY_BUNDLE_MINIMAL"] = str(minimal_script)
    subprocess.run(command, check=True, cwd=ROOT, env=env)


# -- pruning (runs inside the spec, between Analysis and COLLECT) ------------------------------

def _plugin_of(dest: str) -> tuple[str, str] | None:
    """('platforms', 'xcb') for 'PySide6/Qt/plugins/platforms/libqxcb.so'; None otherwise."""
    parts = Path(dest).parts
    if "plugins" not in parts:
        return None
    i = parts.index("plugins")
    if len(parts) != i + 3:
        return None
    return parts[i + 1], plugin_stem(parts[i + 2])


def plugin_stem(file_name: str) -> str:
    """'qxcb' for libqxcb.so, qxcb.dll and libqxcb.dylib."""
    return file_name.split(".")[0].removeprefix("lib")


def _dropped_plugin(dest: str) -> bool:
    plugin = _plugin_of(dest)
    if plugin is None:
        return False
    kind, stem = plugin
    if kind not in QT_PLUGINS_DROPPED:
        return False
    names = QT_PLUGINS_DROPPED[kind]
    return names is None or stem in names


def _framework_of(dest: str) -> str | None:
    """'PySide6/Qt/lib/QtQuick.framework' for any path inside that framework (macOS)."""
    parts = Path(dest).parts
    for i, part in enumerate(parts):
        if part.endswith(".framework"):
            return str(Path(*parts[: i + 1]))
    return None


def _is_qt_library(dest: str) -> bool:
    return bool(_QT_LIB.match(Path(dest).name)) and _plugin_of(dest) is None


def _prunable(dest: str, typecode: str) -> bool:
    """A library nothing may need: a Qt library, or (Linux) any non-Python shared library."""
    if _is_qt_library(dest):
        return True
    if platform_key() != "linux" or typecode == "EXTENSION" or _plugin_of(dest):
        return False
    name = Path(dest).name
    return ".so" in name and not name.startswith(("libpython", "ld-linux"))


Toc = list[tuple[str, str, str]]  # PyInstaller's (destination, source, typecode) entries


def prune(binaries: Toc, datas: Toc) -> tuple[Toc, Toc, list[str]]:
    """Drop unwanted Qt plugins and translations, then every library no kept binary links to.

    The Qt hooks and PyInstaller's link-time analysis bring in libraries for plugins we drop (QtPdf
    for the PDF image plugin, GTK for the GTK theme); QtQml/QtQuick stay because QtMultimedia's
    FFmpeg plugin links to them. Returns (binaries, datas, removed destination names).
    """
    from PyInstaller.depend import bindepend  # type: ignore[import-untyped]

    removed = [dest for dest, _, _ in binaries if _dropped_plugin(dest)]
    kept = [entry for entry in binaries if not _dropped_plugin(entry[0])]
    datas = [e for e in datas if not (Path(e[0]).parts[-2:-1] == ("translations",)
                                      and "PySide6" in e[0] and e[0].endswith(".qm"))]

    def real(path: str) -> str:
        return os.path.normcase(os.path.realpath(path))

    by_source = {real(src): dest for dest, src, _ in kept}
    by_name: dict[str, str] = {}
    for dest, src, _ in kept:
        by_name.setdefault(os.path.normcase(Path(src).name), dest)
        by_name.setdefault(os.path.normcase(Path(dest).name), dest)
    search = sorted({str(Path(src).parent) for _, src, _ in kept})
    source_of = {dest: src for dest, src, _ in kept}
    roots = [dest for dest, _, code in kept if not _prunable(dest, code)]
    needed = set(roots)
    todo = list(roots)
    while todo:
        dest = todo.pop()
        src = source_of.get(dest) or ""
        if not src or not os.path.isfile(src):
            continue
        for name, path in bindepend.get_imports(src, search):
            found = by_source.get(real(path)) if path else None
            found = found or by_name.get(os.path.normcase(Path(name).name))
            if found and found not in needed:
                needed.add(found)
                todo.append(found)
    frameworks_needed = {_framework_of(d) for d in needed} - {None}
    out = []
    for entry in kept:
        dest, _, code = entry
        framework = _framework_of(dest)
        if framework:  # macOS: a Qt framework goes as a whole, when no kept binary needs it
            unused = framework not in frameworks_needed and _is_qt_library(Path(framework).stem)
        else:
            unused = dest not in needed and _prunable(dest, code)
        if unused:
            removed.append(dest)
        else:
            out.append(entry)
    # Symlinks to removed files (PyInstaller links libQt6X.so.6 at the top level to the copy in
    # PySide6/Qt/lib), and the resources and symlinks of removed frameworks (macOS), are datas.
    gone_files = set(removed)
    gone_frameworks = {_framework_of(d) for d in removed} - {None}

    def still_wanted(entry: tuple[str, str, str]) -> bool:
        dest, src, code = entry
        if _framework_of(dest) in gone_frameworks:
            return False
        if code == "SYMLINK":
            target = os.path.normpath(os.path.join(os.path.dirname(dest), src))
            return src not in gone_files and target not in gone_files and (
                _framework_of(target) not in gone_frameworks)
        return True

    datas = [e for e in datas if still_wanted(e)]
    return out, datas, sorted(removed)


def strip_python_debug_info(folder: Path) -> int:
    """Linux: drop the debug sections of the interpreter's own binaries; returns bytes saved.

    A pyenv (or self-built) Python ships libpython and lib-dynload with ~25 MB of DWARF. Only
    those are stripped: the wheels' libraries (Qt, FFmpeg, Pillow) were rewritten by patchelf,
    and `strip` breaks such files, so PyInstaller's global `strip` option is off.
    """
    import shutil
    import subprocess

    tool = shutil.which("strip")
    if platform_key() != "linux" or tool is None:
        return 0
    internal = bundle_internal(folder)
    targets = [p for p in internal.glob("libpython3*.so*") if not p.is_symlink()]
    targets += sorted((internal / f"python{sys.version_info[0]}.{sys.version_info[1]}"
                       / "lib-dynload").glob("*.so"))
    before = sum(p.stat().st_size for p in targets)
    for path in targets:
        subprocess.run([tool, "--strip-debug", str(path)], check=True)
    return before - sum(p.stat().st_size for p in targets)


def bundle_internal(folder: Path) -> Path:
    """Where PyInstaller put the collected files (sys._MEIPASS of a onedir build)."""
    for candidate in (folder / "_internal", folder / "Contents" / "Frameworks", folder):
        if candidate.is_dir() and (candidate / "base_library.zip").exists():
            return candidate
    return folder


def tree_size(folder: Path) -> int:
    """Bytes on disk of a folder's files (symlinks counted once, as links)."""
    total = 0
    for path in folder.rglob("*"):
        if path.is_symlink():
            continue
        if path.is_file():
            total += path.stat().st_size
    return total
