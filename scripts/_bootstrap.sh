# Shared by scripts/run and scripts/test: make a fresh machine ready.
# Installs the system libraries Qt, QtMultimedia, Xvfb and the keyring tests need (Debian/Ubuntu, as root),
# then a virtualenv in .venv with the package and the extras given as arguments.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"

debian_packages=(
  libgl1 libegl1 libxkbcommon0 libfontconfig1 libglib2.0-0 libdbus-1-3   # Qt offscreen
  libpulse0 libxrandr2                                                   # QtMultimedia backend
  xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1  # a real X window
  libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0
  gnome-keyring dbus                                                     # a real Secret Service
  xdotool                                                                # drives the end-to-end test
  iproute2                                                               # `ip` in network-namespace tests
  binutils                                                               # objdump, which PyInstaller needs (tests/build)
)

# Debian's own Python links libpython statically; PyInstaller (tests/build) needs the shared
# library, which is a package of its own (libpython3.11 on Debian 12).
system_python_packages() {
  local python
  python="$(command -v "$(pick_python 2>/dev/null)" 2>/dev/null)" || return 0
  case "$python" in
    /usr/bin/*) "$python" -c 'import sys; print("libpython%d.%d" % sys.version_info[:2])' ;;
  esac
}

install_system_packages() {
  command -v dpkg-query >/dev/null 2>&1 || return 0
  local missing=()
  local wanted=("${debian_packages[@]}")
  local libpython
  libpython="$(system_python_packages)"
  [ -n "$libpython" ] && wanted+=("$libpython")
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    return 0
  fi
  echo "Installing system packages: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pick_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 14)))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "Runway Desktop needs Python 3.11, 3.12 or 3.13." >&2
  return 1
}

ensure_venv() {
  local extras="${1:-}"
  local target="$repo"
  [ -n "$extras" ] && target="$repo[$extras]"
  if [ ! -x "$venv/bin/python" ]; then
    "$(pick_python)" -m venv "$venv"
  fi
  # Reinstall only when pyproject.toml changed since the last install.
  local stamp="$venv/.installed-${extras:-base}"
  if [ ! -f "$stamp" ] || [ "$repo/pyproject.toml" -nt "$stamp" ]; then
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q -e "$target"
    touch "$stamp"
  fi
}
