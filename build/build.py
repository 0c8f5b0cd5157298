"""Build Runway Desktop's native package for the OS this runs on: `python build/build.py`.

1. checks that the installed package metadata carries pyproject.toml's version (the frozen app
   reads its version from that metadata);
2. renders every icon size from resources/icon.svg (build/make_icons.py);
3. runs PyInstaller on build/runway_desktop.spec (onedir, pruned: see build/bundling.py);
4. checks the bundle: required Qt plugins present, unused Qt modules absent, notices shipped,
   size within build/size_budget.json;
5. packages it:
   - Linux: build/dist/runway-desktop-<version>-linux-<arch>.tar.gz of the app folder, and an
     AppDir (build/dist/RunwayDesktop.AppDir: AppRun, .desktop file, icons); with `appimagetool`
     on PATH (or $APPIMAGETOOL) also Runway_Desktop-<version>-<arch>.AppImage;
   - Windows: the Inno Setup installer (build/windows/installer.iss, compiled with iscc);
   - macOS: "Runway Desktop.app" in build/dist/RunwayDesktop-<version>-macos-<arch>.dmg (hdiutil).
A summary goes to build/dist/build-info.json. Options: --skip-icons, --skip-package, --clean.
Needs the `build` extra: pip install -e '.[build]'.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as py_platform
import shutil
import subprocess
import sys
import tarfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bundling

MB = 1024 * 1024
BUDGET_FILE = bundling.BUILD / "size_budget.json"
INFO_FILE = bundling.DIST / "build-info.json"


class BuildError(Exception):
    pass


def log(message: str) -> None:
    print(f"build.py: {message}", file=sys.stderr, flush=True)


def arch() -> str:
    machine = py_platform.machine().lower()
    return {"amd64": "x86_64", "x64": "x86_64", "aarch64": "arm64"}.get(machine, machine)


def target() -> str:
    """linux-x86_64, macos-arm64, windows-x86_64: the key of size_budget.json."""
    name = {"linux": "linux", "darwin": "macos", "win32": "windows"}[bundling.platform_key()]
    return f"{name}-{arch()}"


# -- steps ----------------------------------------------------------------------------------------

def check_version() -> str:
    wanted = bundling.project_version()
    try:
        installed = version("runway-desktop")
    except PackageNotFoundError:
        raise BuildError("runway-desktop is not installed in this Python: run "
                         "`pip install -e '.[build]'` first") from None
    if installed != wanted:
        raise BuildError(f"pyproject.toml says {wanted} but the installed metadata says "
                         f"{installed}: run `pip install -e '.[build]'` again")
    return wanted


def make_icons() -> None:
    subprocess.run([sys.executable, str(bundling.BUILD / "make_icons.py")], check=True,
                   env=bundling.child_env(), cwd=bundling.ROOT)


def app_folder() -> Path:
    return bundling.DIST / bundling.EXE_NAME


def executable(folder: Path | None = None) -> Path:
    """The console executable of the onedir build (the one --self-test runs)."""
    folder = folder or app_folder()
    suffix = ".exe" if bundling.platform_key() == "win32" else ""
    return folder / f"{bundling.EXE_NAME}{suffix}"


def mac_app() -> Path:
    return bundling.DIST / f"{bundling.APP_NAME}.app"


def verify_bundle(folder: Path) -> list[str]:
    """Problems with the bundle's contents (empty when it is complete and lean)."""
    internal = bundling.bundle_internal(folder)
    problems = []
    plugins = internal / "PySide6" / "Qt" / "plugins"
    if not plugins.is_dir():
        plugins = internal / "PySide6" / "plugins"  # Windows wheels keep plugins there
    for kind, stems in bundling.QT_PLUGINS_REQUIRED[bundling.platform_key()].items():
        present = {bundling.plugin_stem(p.name) for p in (plugins / kind).glob("*")}
        problems += [f"missing Qt plugin {kind}/{s}" for s in sorted(stems - present)]
    for path in internal.rglob("*"):
        name = path.name
        for module in bundling.QT_FORBIDDEN:
            if name.startswith((f"libQt6{module}", f"Qt6{module}", f"Qt{module}.")) or (
                    name.startswith(f"Qt{module}") and name.endswith(".framework")):
                problems.append(f"unused Qt module shipped: {path.relative_to(folder)}")
    for wanted in ("THIRD_PARTY_NOTICES.txt", "LICENSES/Qt-PySide6-FFmpeg/LGPL-3.0.txt",
                   "resources/clips/16x9.mp4", "resources/icons/runway-desktop-256.png"):
        if not (internal / wanted).exists():
            problems.append(f"missing {wanted}")
    return problems


def size_budget() -> dict[str, object]:
    return json.loads(BUDGET_FILE.read_text(encoding="utf-8"))


def check_size(size: int) -> str | None:
    """A complaint when the bundle is over this platform's budget, else None."""
    budget = size_budget().get("max_bundle_mb", {})
    limit = budget.get(target()) if isinstance(budget, dict) else None
    if limit is None:
        return None
    if size > float(limit) * MB:
        return (f"the bundle is {size / MB:.1f} MB, over the {limit} MB budget for {target()} "
                f"in {BUDGET_FILE.relative_to(bundling.ROOT)}")
    return None


# -- packages -------------------------------------------------------------------------------------

def package_linux(folder: Path, version_: str) -> list[Path]:
    made = []
    tarball = bundling.DIST / f"{bundling.EXE_NAME}-{version_}-linux-{arch()}.tar.gz"
    shutil.copy2(bundling.NOTICES, folder / bundling.NOTICES.name)
    with tarfile.open(tarball, "w:gz", compresslevel=6) as tar:
        tar.add(folder, arcname=folder.name)
    made.append(tarball)

    appdir = bundling.DIST / "RunwayDesktop.AppDir"
    shutil.rmtree(appdir, ignore_errors=True)
    lib = appdir / "usr" / "lib" / bundling.EXE_NAME
    shutil.copytree(folder, lib, symlinks=True)
    (appdir / "usr" / "bin").mkdir(parents=True)
    (appdir / "usr" / "bin" / bundling.EXE_NAME).symlink_to(f"../lib/{bundling.EXE_NAME}/"
                                                            f"{bundling.EXE_NAME}")
    apprun = appdir / "AppRun"
    apprun.write_text(
        "#!/bin/sh\n"
        "# AppImage entry point: run the bundled app with the arguments given.\n"
        'HERE="$(dirname "$(readlink -f "$0")")"\n'
        f'exec "$HERE/usr/lib/{bundling.EXE_NAME}/{bundling.EXE_NAME}" "$@"\n',
        encoding="utf-8",
    )
    apprun.chmod(0o755)
    desktop = desktop_entry(version_)
    (appdir / f"{bundling.EXE_NAME}.desktop").write_text(desktop, encoding="utf-8")
    applications = appdir / "usr" / "share" / "applications"
    applications.mkdir(parents=True)
    (applications / f"{bundling.EXE_NAME}.desktop").write_text(desktop, encoding="utf-8")
    icons = bundling.RESOURCES / "icons"
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        target_dir = appdir / "usr" / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        target_dir.mkdir(parents=True)
        shutil.copy2(icons / f"runway-desktop-{size}.png", target_dir / f"{bundling.EXE_NAME}.png")
    shutil.copy2(icons / "runway-desktop-256.png", appdir / f"{bundling.EXE_NAME}.png")
    (appdir / ".DirIcon").symlink_to(f"{bundling.EXE_NAME}.png")
    made.append(appdir)

    tool = os.environ.get("APPIMAGETOOL") or shutil.which("appimagetool")
    if tool:
        image = bundling.DIST / f"Runway_Desktop-{version_}-{arch()}.AppImage"
        env = {**os.environ, "ARCH": {"arm64": "aarch64"}.get(arch(), arch()),
               "VERSION": version_}
        subprocess.run([tool, "--no-appstream", str(appdir), str(image)], check=True, env=env)
        made.append(image)
    else:
        log("appimagetool not found: made the AppDir only (the release workflow makes the "
            ".AppImage)")
    return made


def desktop_entry(version_: str) -> str:
    # The app calls setDesktopFileName("runway-desktop"): the file is runway-desktop.desktop.
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        f"Name={bundling.APP_NAME}\n"
        "GenericName=Video generator\n"
        "Comment=Turn an image and a prompt into a short video with Runway Gen-4 Turbo\n"
        f"Exec={bundling.EXE_NAME}\n"
        f"Icon={bundling.EXE_NAME}\n"
        "Terminal=false\n"
        "Categories=AudioVideo;Video;Graphics;\n"
        "Keywords=video;runway;ai;generate;\n"
        f"StartupWMClass={bundling.EXE_NAME}\n"
        f"X-AppImage-Version={version_}\n"
    )


def find_iscc() -> str:
    found = os.environ.get("ISCC") or shutil.which("iscc") or shutil.which("ISCC")
    if found:
        return found
    for base in (os.environ.get("PROGRAMFILES(X86)"), os.environ.get("PROGRAMFILES"),
                 os.environ.get("LOCALAPPDATA", "") + r"\Programs"):
        candidate = Path(base or "") / "Inno Setup 6" / "ISCC.exe"
        if base and candidate.is_file():
            return str(candidate)
    raise BuildError("Inno Setup's iscc was not found: install Inno Setup 6 "
                     "(choco install innosetup) or set ISCC to ISCC.exe")


def package_windows(folder: Path, version_: str) -> list[Path]:
    script = bundling.BUILD / "windows" / "installer.iss"
    numeric = ".".join(str(n) for n in bundling.numeric_version(version_))
    subprocess.run([find_iscc(), f"/DAppVersion={version_}", f"/DAppNumericVersion={numeric}",
                    f"/DBundleDir={folder}",
                    f"/DOutputDir={bundling.DIST}", f"/DRepoRoot={bundling.ROOT}", str(script)],
                   check=True)
    return [bundling.DIST / f"RunwayDesktop-{version_}-windows-x64-setup.exe"]


def package_macos(version_: str) -> list[Path]:
    app = mac_app()
    staging = bundling.WORK / "dmg"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    # ditto keeps symlinks, extended attributes and the code signature intact.
    subprocess.run(["ditto", str(app), str(staging / app.name)], check=True)
    (staging / "Applications").symlink_to("/Applications")
    dmg = bundling.DIST / f"RunwayDesktop-{version_}-macos-{arch()}.dmg"
    command = ["hdiutil", "create", "-volname", bundling.APP_NAME, "-srcfolder", str(staging),
               "-fs", "HFS+", "-format", "UDZO", "-ov", str(dmg)]
    for attempt in range(3):  # hdiutil sometimes answers "Resource busy" on CI runners
        if subprocess.run(command).returncode == 0:
            break
        time.sleep(5 * (attempt + 1))
    else:
        raise BuildError("hdiutil create failed three times")
    subprocess.run(["hdiutil", "verify", str(dmg)], check=True)
    return [dmg]


# -- main -----------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-icons", action="store_true", help="don't re-render the icons")
    parser.add_argument("--skip-package", action="store_true",
                        help="stop after the app folder (no tar.gz/AppDir, installer or dmg)")
    parser.add_argument("--clean", action="store_true", help="empty PyInstaller's cache first")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        version_ = check_version()
        log(f"Runway Desktop {version_} for {target()}")
        if not args.skip_icons:
            make_icons()
        for old in (app_folder(), mac_app()):
            shutil.rmtree(old, ignore_errors=True)
        t0 = time.monotonic()
        bundling.run_pyinstaller(distpath=bundling.DIST, workpath=bundling.WORK,
                                 clean=args.clean)
        pyinstaller_seconds = time.monotonic() - t0
        folder = app_folder()
        saved = bundling.strip_python_debug_info(folder)
        if saved:
            log(f"stripped {saved / MB:.1f} MB of debug information from the Python runtime")
        problems = verify_bundle(folder)
        if problems:
            raise BuildError("the bundle is incomplete or carries unused parts:\n  "
                             + "\n  ".join(problems))
        size = bundling.tree_size(folder)
        over = check_size(size)
        if over:
            raise BuildError(over)
        packages: list[Path] = []
        if not args.skip_package:
            key = bundling.platform_key()
            if key == "linux":
                packages = package_linux(folder, version_)
            elif key == "win32":
                packages = package_windows(folder, version_)
            else:
                packages = package_macos(version_)
    except BuildError as error:
        log(f"error: {error}")
        return 1
    except subprocess.CalledProcessError as error:
        log(f"error: {error}")
        return 1
    info = {
        "version": version_,
        "target": target(),
        "app_folder": str(folder),
        "executable": str(executable(folder) if bundling.platform_key() != "darwin"
                          else mac_app() / "Contents" / "MacOS" / bundling.EXE_NAME),
        "bundle_bytes": size,
        "pyinstaller_seconds": round(pyinstaller_seconds, 1),
        "total_seconds": round(time.monotonic() - started, 1),
        "packages": [str(p) for p in packages],
    }
    INFO_FILE.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    log(f"bundle {size / MB:.1f} MB in {folder} (PyInstaller {pyinstaller_seconds:.0f} s, "
        f"total {info['total_seconds']:.0f} s)")
    for package in packages:
        log(f"package: {package}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
