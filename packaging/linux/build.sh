#!/usr/bin/env bash
# Build dist/tunedesk_<version>_amd64.deb from a clean checkout: a PyInstaller one-folder bundle under
# /opt/tunedesk/, a /usr/bin/tunedesk link, the desktop entry and the icons. See packaging/README.md.
#
#   packaging/linux/build.sh
#
# Needs: Python 3.11-3.13 with its shared library (python3 -m venv), a C/C++ compiler and cmake (llama-cpp-
# python is compiled here, portable), dpkg-deb and fakeroot, and the network for pip. Everything else goes
# into build/linux/ (a virtual environment, the compiled llama-cpp-python wheel, PyInstaller's work folder),
# which later builds reuse.
#
# Environment (all optional):
#   TUNEDESK_PYTHON        the Python to build with (default python3)
#   TUNEDESK_TORCH         what pip installs as torch (default "torch"); must be a CPU-only build, e.g. a
#                          +cpu wheel file, or "torch" together with TUNEDESK_TORCH_INDEX
#   TUNEDESK_TORCH_INDEX   an index URL for torch (PyTorch's CPU wheel index)
#   TUNEDESK_LLAMA_WHEELS  a folder with a llama_cpp_python wheel already built by this recipe (CPU modules)
#   TUNEDESK_DEB_COMPRESS  dpkg-deb compressor: xz (default, installs everywhere) or zstd (faster to build)
#   TUNEDESK_BUILD_DIR     the work folder (default build/linux)
#   NICE                   niceness for the heavy steps (default 10)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${TUNEDESK_BUILD_DIR:-$ROOT/build/linux}
PY=${TUNEDESK_PYTHON:-python3}
NICE=${NICE:-10}
LLAMA_CPP_VERSION=0.3.36
# Portable CPU build: no -march=native of the build machine. llama.cpp's CPU backend is compiled once per
# instruction-set level (x64, SSE4.2, AVX, AVX2, AVX-512, AVX-VNNI, AMX, ...: GGML_CPU_ALL_VARIANTS) as loadable
# modules (GGML_BACKEND_DL) installed beside libllama; at run time llama.cpp scores them against the CPU and
# loads the best (core/chat/llama_backends.py), so an old laptop gets code it can run and a new one AVX-512.
# The multimodal tools, examples, tests and server are not built (TuneDesk uses none of them).
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON \
-DCMAKE_INSTALL_BINDIR=llama_cpp/lib -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
-DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF -DGGML_OPENMP=ON"

started=$(date +%s)
phase_start=$started
TIMES="$BUILD/build-times.txt"
mkdir -p "$BUILD"
: >"$TIMES"
phase() { # phase NAME: log the time the previous phase took
    local now
    now=$(date +%s)
    echo "$1 $((now - phase_start)) s" | tee -a "$TIMES"
    phase_start=$now
}

VERSION=$("$PY" -c "import tomllib,sys; print(tomllib.load(open(sys.argv[1],'rb'))['project']['version'])" \
    "$ROOT/pyproject.toml")
DEB="$ROOT/dist/tunedesk_${VERSION}_amd64.deb"
echo "Building TuneDesk $VERSION -> $DEB (work folder $BUILD)"

# 1. A build environment of its own (never the developer's).
VENV="$BUILD/venv"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip wheel
# shellcheck disable=SC2086
nice -n "$NICE" "${PIP[@]}" install -q ${TUNEDESK_TORCH_INDEX:+--index-url "$TUNEDESK_TORCH_INDEX"} \
    "${TUNEDESK_TORCH:-torch}"
if ! "$VENV/bin/python" -c "import sys, torch; sys.exit(torch.version.cuda is not None)"; then
    echo "The torch installed is a CUDA build; the Linux bundle ships CPU torch only." >&2
    echo "Set TUNEDESK_TORCH to a +cpu wheel or TUNEDESK_TORCH_INDEX to PyTorch's CPU index." >&2
    exit 1
fi
phase torch

# 2. llama-cpp-python, compiled portable (cached in build/linux/wheels-cpu-variants; a wheel built another
# way, e.g. by a plain pip install, has one CPU backend and is refused below).
WHEELS="$BUILD/wheels-cpu-variants"
mkdir -p "$WHEELS"
if [ -n "${TUNEDESK_LLAMA_WHEELS:-}" ]; then
    cp -n "$TUNEDESK_LLAMA_WHEELS"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl "$WHEELS"/ || true
fi
if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl >/dev/null 2>&1; then
    echo "Compiling llama-cpp-python $LLAMA_CPP_VERSION (one CPU backend per instruction set; most of an hour)..."
    # --no-cache-dir: pip's wheel cache is keyed on the source, not on CMAKE_ARGS, and would hand back a wheel
    # built earlier for this machine alone (a developer's `pip install llama-cpp-python`).
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) nice -n "$NICE" "${PIP[@]}" wheel \
        --no-cache-dir --no-deps --no-binary llama-cpp-python -w "$WHEELS" "llama-cpp-python==$LLAMA_CPP_VERSION"
fi
"${PIP[@]}" install -q --no-deps --force-reinstall "$WHEELS"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl
# Found, not imported: its dependencies are installed in step 3.
LLAMA_LIB=$("$VENV/bin/python" -c "import importlib.util as u; print(u.find_spec('llama_cpp').submodule_search_locations[0])")/lib
# The baseline every x86-64 CPU runs, and at least one vector variant: else the wheel is not this recipe's.
if [ ! -f "$LLAMA_LIB/libggml-cpu-x64.so" ] || [ ! -f "$LLAMA_LIB/libggml-cpu-haswell.so" ]; then
    echo "$WHEELS holds a llama-cpp-python wheel without runtime-selected CPU backends; delete it." >&2
    exit 1
fi
phase llama-cpp-python

# 3. TuneDesk itself (not editable: the bundle must not point back into the checkout), and PyInstaller.
nice -n "$NICE" "${PIP[@]}" install -q "$ROOT" "pyinstaller>=6.10,<7" pyinstaller-hooks-contrib \
    "jinja2" "diskcache" "typing-extensions"
phase dependencies

# 4. The converter and the starter model, with TuneDesk's own installer, into a folder the spec bundles.
VENDOR="$BUILD/vendor"
TUNEDESK_VENDOR="$VENDOR" "$VENV/bin/tunedesk" setup
phase vendor

# 5. The one-folder bundle.
rm -rf "$BUILD/dist"
TUNEDESK_BUNDLE_VENDOR="$VENDOR" TUNEDESK_VERSION="$VERSION" nice -n "$NICE" "$VENV/bin/pyinstaller" \
    --noconfirm --clean --log-level WARN --distpath "$BUILD/dist" --workpath "$BUILD/work" \
    "$ROOT/packaging/tunedesk.spec"
BUNDLE="$BUILD/dist/tunedesk"
[ -x "$BUNDLE/tunedesk" ] || { echo "PyInstaller did not produce $BUNDLE/tunedesk" >&2; exit 1; }
# Wheels cannot hold symbolic links, so libllama.so, .so.0 and .so.0.5.0 (and pyarrow's, llama.cpp's other
# libraries) arrive as identical copies: keep the fully versioned file, the other names become links to it.
"$VENV/bin/python" - "$BUNDLE" <<'PY'
import hashlib, os, sys
from collections import defaultdict
from pathlib import Path

groups = defaultdict(list)
for path in Path(sys.argv[1]).rglob("*.so*"):
    if path.is_file() and not path.is_symlink() and path.stat().st_size >= 65536:
        groups[(path.parent, hashlib.sha256(path.read_bytes()).hexdigest())].append(path)
saved = 0
for (_folder, _digest), paths in groups.items():
    if len(paths) < 2:
        continue
    real, *copies = sorted(paths, key=lambda p: (-len(p.name), p.name))
    for copy in copies:
        saved += copy.stat().st_size
        copy.unlink()
        os.symlink(real.name, copy)
print(f"duplicate libraries linked: {saved / 2**20:.0f} MB saved")
PY
phase pyinstaller

# 6. The Debian package tree.
PKG="$BUILD/deb"
rm -rf "$PKG"
mkdir -p "$PKG/DEBIAN" "$PKG/opt" "$PKG/usr/bin" "$PKG/usr/share/applications"
cp -a "$BUNDLE" "$PKG/opt/tunedesk"
ln -s /opt/tunedesk/tunedesk "$PKG/usr/bin/tunedesk"
# The checkout's desktop entry starts `tunedesk-gui` (a pip install's GUI script); the bundle's one
# executable opens the window when started without arguments.
sed -e 's/^Exec=.*/Exec=tunedesk/' -e 's/^TryExec=.*/TryExec=tunedesk/' \
    "$ROOT/resources/tunedesk.desktop" >"$PKG/usr/share/applications/tunedesk.desktop"
for png in "$ROOT"/resources/icons/tunedesk-*.png; do
    size=$(basename "$png" .png)
    size=${size#tunedesk-}
    install -D -m 644 "$png" "$PKG/usr/share/icons/hicolor/${size}x${size}/apps/tunedesk.png"
done
install -D -m 644 "$ROOT/resources/icons/tunedesk.svg" "$PKG/usr/share/icons/hicolor/scalable/apps/tunedesk.svg"
INSTALLED_KB=$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)
# The bundle's Python and libraries were linked against this machine's C library: require at least it.
# (sed reads all of ldd's output: `| head -1` can kill ldd with SIGPIPE, which pipefail turns into an exit.)
GLIBC=$(ldd --version 2>/dev/null | sed -n '1s/.* \([0-9][0-9]*\.[0-9][0-9]*\)$/\1/p')
# Qt's xcb platform plugin needs these X libraries from the system (the wheels bundle Qt itself).
cat >"$PKG/DEBIAN/control" <<EOF
Package: tunedesk
Version: $VERSION
Section: science
Priority: optional
Architecture: amd64
Maintainer: TuneDesk <tunedesk@localhost>
Installed-Size: $INSTALLED_KB
Depends: libc6 (>= $GLIBC), libgl1, libegl1, libfontconfig1, libxkbcommon0, libxkbcommon-x11-0, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-shape0, libxcb-xinerama0, libxcb-randr0, libxcb-render-util0, libxcb-image0, libdbus-1-3
Description: Fine-tune a small language model on your own computer, offline
 TuneDesk trains a LoRA adapter for a small language model on your data,
 exports it to GGUF and lets you chat with it. Everything runs on this
 machine: the starter model and llama.cpp's converter are included, and
 nothing is downloaded. This package trains on the CPU.
EOF
chmod -R u+w,go-w "$PKG"
mkdir -p "$ROOT/dist"
fakeroot dpkg-deb --root-owner-group -Z"${TUNEDESK_DEB_COMPRESS:-xz}" --build "$PKG" "$DEB"
phase deb

{
    echo "total $(($(date +%s) - started)) s"
    echo "installed $((INSTALLED_KB / 1024)) MB"
    echo "package $(($(stat -c %s "$DEB") / 1048576)) MB"
} | tee -a "$TIMES"
echo "Largest parts of the bundle:"
# sed, not head: head exits early, sort gets SIGPIPE and pipefail ends the build before its last line.
du -sm "$BUNDLE"/_internal/* | sort -rn | sed -n 1,15p | tee "$BUILD/bundle-sizes.txt"
echo "Built $DEB"
