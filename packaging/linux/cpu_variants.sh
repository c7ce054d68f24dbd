#!/usr/bin/env bash
# Does the bundle's llama.cpp run on older processors than the build machine's, and pick the right code?
#
#   packaging/linux/cpu_variants.sh [dist/tunedesk_<version>_amd64.deb | BUNDLE_DIR]
#
# Runs `tunedesk chat` on the starter model under qemu-x86_64 (user-mode emulation) as processors without
# AVX (Nehalem, 2008), without AVX2 (Sandy Bridge, 2011) and with it (Haswell, 2013), then natively. Each
# must answer, and report the CPU code llama.cpp loaded for it (`cpu_code` in `chat --json`). A build of
# llama.cpp for the build machine's processor dies here with "Illegal instruction".
# qemu 7.2 emulates up to AVX2: the AVX-512 and AMX variants are checked only by the native run, on a
# machine that has them.
#
# Needs: qemu-user (Debian: apt install qemu-user), dpkg-deb for a .deb.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRC=${1:-$(ls -t "$ROOT"/dist/tunedesk_*_amd64.deb | head -1)}
if [ -d "$SRC" ]; then
    APP_DIR=$(cd "$SRC" && pwd)
else
    WORK=$(mktemp -d /tmp/tunedesk-cpus.XXXXXX)
    dpkg-deb -x "$SRC" "$WORK/root"
    APP_DIR="$WORK/root/opt/tunedesk"
fi
MODEL=$(find "$APP_DIR/_internal/vendor/starter" -name '*.gguf' | head -1)
[ -n "$MODEL" ] || { echo "No starter model in $APP_DIR" >&2; exit 1; }
HOME_DIR=$(mktemp -d /tmp/tunedesk-cpus-home.XXXXXX)

# PyInstaller's bootloader sets these and runs itself again (execve), which qemu-user would not follow: the
# second run would be native. Set as the bootloader sets them, it starts Python at once, inside qemu.
# (Bootloader internals of PyInstaller 6; the run on this machine without qemu checks the ordinary start.)
PYI_ENV=(_PYI_ARCHIVE_FILE="$APP_DIR/tunedesk" _PYI_PARENT_PROCESS_LEVEL=-1 _PYI_LINUX_PROCESS_NAME=tunedesk
    LD_LIBRARY_PATH="$APP_DIR/_internal")

ask() { # ask [qemu-x86_64 -cpu MODEL]: the chat's JSON answer on stdout
    local pyi=()
    [ $# -gt 0 ] && pyi=("${PYI_ENV[@]}")
    env -i HOME="$HOME_DIR" PATH=/usr/bin:/bin LANG=C.UTF-8 TUNEDESK_HOME="$HOME_DIR/tunedesk" "${pyi[@]}" \
        "$@" "$APP_DIR/tunedesk" chat "$MODEL" --prompt "What is the capital of France?" --max-tokens 4 \
        --temperature 0 --json 2>/dev/null
}

failed=0
check() { # check LABEL EXPECTED_CODE ANSWER_JSON
    local code answer
    code=$(sed -n 's/.*"cpu_code": *"\([^"]*\)".*/\1/p' <<<"$3")
    answer=$(sed -n 's/.*"answer": *"\([^"]*\)".*/\1/p' <<<"$3")
    if [ -n "$answer" ] && { [ -z "$2" ] || [ "$code" = "$2" ]; }; then
        echo "ok   $1: llama.cpp CPU code $code, answer \"$answer\""
    else
        echo "FAIL $1: expected CPU code ${2:-any}, got \"$code\", answer \"$answer\"" >&2
        failed=1
    fi
}

CPUS=(Nehalem:sse42 SandyBridge:sandybridge Haswell:haswell)
# qemu emulates AVX and AVX2 from version 7.2 on; an older one (Ubuntu 22.04 has 6.2) checks the oldest only.
QEMU_VERSION=$(qemu-x86_64 --version | sed -n '1s/.*version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
read -r QEMU_MAJOR QEMU_MINOR <<<"$QEMU_VERSION"
if [ "$QEMU_MAJOR" -lt 7 ] || { [ "$QEMU_MAJOR" -eq 7 ] && [ "$QEMU_MINOR" -lt 2 ]; }; then
    echo "qemu $QEMU_MAJOR.$QEMU_MINOR emulates no AVX: checking Nehalem only"
    CPUS=(Nehalem:sse42)
fi
for cpu in "${CPUS[@]}"; do
    check "${cpu%%:*} (emulated)" "${cpu#*:}" "$(ask qemu-x86_64 -cpu "${cpu%%:*}" || true)"
done
check "this machine ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))" "" "$(ask || true)"
exit $failed
