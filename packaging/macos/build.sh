#!/usr/bin/env bash
# Build dist/TuneDesk-<version>-<arch>.dmg on macOS 12+ (Apple silicon: MPS torch): the same one-folder
# bundle as Linux (packaging/tunedesk.spec) wrapped as TuneDesk.app, in a disk image with an Applications
# link to drag it onto. Written from the tools' documentation; it cannot run on the Linux build machine.
#
#   packaging/macos/build.sh
#
# Needs: Xcode command line tools (clang, codesign, hdiutil, iconutil, sips), cmake, Python 3.11-3.13 from
# python.org or Homebrew, the network for pip. Optional environment: TUNEDESK_PYTHON, TUNEDESK_BUILD_DIR,
# and for a signed, notarized image MACOS_SIGN_IDENTITY, MACOS_NOTARY_PROFILE (see the placeholders below).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${TUNEDESK_BUILD_DIR:-$ROOT/build/macos}
PY=${TUNEDESK_PYTHON:-python3}
ARCH=$(uname -m)
LLAMA_CPP_VERSION=0.3.36
# Metal for chat on Apple GPUs; no -mcpu=native of the build machine; no multimodal tools, tests, server.
LLAMA_CMAKE_ARGS="-DGGML_METAL=ON -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF \
-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF"
export MACOSX_DEPLOYMENT_TARGET=12.0
mkdir -p "$BUILD" "$ROOT/dist"
VERSION=$("$PY" -c "import tomllib,sys; print(tomllib.load(open(sys.argv[1],'rb'))['project']['version'])" \
    "$ROOT/pyproject.toml")

VENV="$BUILD/venv"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip wheel
"${PIP[@]}" install -q torch # PyPI's macOS wheels carry the MPS (Metal) backend
WHEELS="$BUILD/wheels"
if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl >/dev/null 2>&1; then
    # --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS and could return a wheel built without them.
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" "${PIP[@]}" wheel --no-cache-dir --no-deps --no-binary llama-cpp-python -w "$WHEELS" \
        "llama-cpp-python==$LLAMA_CPP_VERSION"
fi
"${PIP[@]}" install -q --no-deps --force-reinstall "$WHEELS"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl
"${PIP[@]}" install -q "$ROOT" "pyinstaller>=6.10,<7" pyinstaller-hooks-contrib jinja2 diskcache typing-extensions

VENDOR="$BUILD/vendor"
TUNEDESK_VENDOR="$VENDOR" "$VENV/bin/tunedesk" setup

# The app icon: an .iconset of the PNGs in resources/icons, packed by iconutil.
ICONSET="$BUILD/tunedesk.iconset"
rm -rf "$ICONSET" && mkdir -p "$ICONSET"
for size in 16 32 128 256 512; do
    cp "$ROOT/resources/icons/tunedesk-$size.png" "$ICONSET/icon_${size}x${size}.png"
done
for size in 16 32 128 256; do
    cp "$ROOT/resources/icons/tunedesk-$((size * 2)).png" "$ICONSET/icon_${size}x${size}@2x.png" 2>/dev/null ||
        sips -z $((size * 2)) $((size * 2)) "$ROOT/resources/icons/tunedesk-512.png" \
            --out "$ICONSET/icon_${size}x${size}@2x.png" >/dev/null
done
iconutil -c icns "$ICONSET" -o "$BUILD/tunedesk.icns"

rm -rf "$BUILD/dist"
TUNEDESK_BUNDLE_VENDOR="$VENDOR" TUNEDESK_VERSION="$VERSION" TUNEDESK_ICON="$BUILD/tunedesk.icns" \
    "$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN --distpath "$BUILD/dist" \
    --workpath "$BUILD/work" "$ROOT/packaging/tunedesk.spec"
APP="$BUILD/dist/TuneDesk.app"
[ -x "$APP/Contents/MacOS/TuneDesk" ] || { echo "PyInstaller did not produce $APP" >&2; exit 1; }

# ---- PLACEHOLDER: code signing (needs a "Developer ID Application" certificate in the keychain) -------
if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    codesign --force --deep --options runtime --timestamp \
        --entitlements "$ROOT/packaging/macos/entitlements.plist" --sign "$MACOS_SIGN_IDENTITY" "$APP"
    codesign --verify --strict --verbose=2 "$APP"
else
    echo "NOT SIGNED: set MACOS_SIGN_IDENTITY to sign (unsigned apps need right-click > Open on first start)."
fi
# ------------------------------------------------------------------------------------------------------

DMG="$ROOT/dist/TuneDesk-$VERSION-$ARCH.dmg"
STAGE="$BUILD/dmg"
rm -rf "$STAGE" "$DMG" && mkdir -p "$STAGE"
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "TuneDesk $VERSION" -srcfolder "$STAGE" -ov -format UDZO "$DMG"

# ---- PLACEHOLDER: notarization (an App Store Connect API key stored with `xcrun notarytool store-credentials`)
if [ -n "${MACOS_NOTARY_PROFILE:-}" ] && [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    codesign --sign "$MACOS_SIGN_IDENTITY" --timestamp "$DMG"
    xcrun notarytool submit "$DMG" --keychain-profile "$MACOS_NOTARY_PROFILE" --wait
    xcrun stapler staple "$DMG"
else
    echo "NOT NOTARIZED: set MACOS_NOTARY_PROFILE (and MACOS_SIGN_IDENTITY) to notarize."
fi
# ------------------------------------------------------------------------------------------------------
echo "Built $DMG ($(du -sh "$APP" | cut -f1) installed)"
