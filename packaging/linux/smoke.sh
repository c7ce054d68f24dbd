#!/usr/bin/env bash
# Smoke test of a built .deb, as a user without Python and without a network would run it:
#
#   packaging/linux/smoke.sh [dist/tunedesk_<version>_amd64.deb] [OUT_DIR]
#
# 1. Unpacks the package into an empty folder (dpkg-deb -x; nothing is installed on this machine).
# 2. Runs `tunedesk self-test --json` with an empty environment (env -i: no Python, no virtual environment,
#    no PYTHONPATH) and no network (unshare -n, needs root), under strace: it must pass, and no file may be
#    opened or executed from outside the unpacked folder except the system's own libraries and data.
# 3. Opens the window under Xvfb, the same way, takes a screenshot, and checks the process's memory maps
#    (/proc/PID/maps) for anything mapped from outside the folder except system libraries.
# Writes OUT_DIR (default build/smoke): self-test.json, strace-outside.txt, maps-outside.txt, window.png,
# times.txt. Exits non-zero on the first failed step.
#
# Needs: dpkg-deb, unshare (util-linux), strace, Xvfb, xdotool, ImageMagick's `import`, and the X libraries
# listed in the package's Depends (libxcb-cursor0, libxkbcommon-x11-0, libxcb-icccm4, libxcb-keysyms1, ...).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEB=${1:-$(ls -t "$ROOT"/dist/tunedesk_*_amd64.deb | head -1)}
OUT=${2:-$ROOT/build/smoke}
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d /tmp/tunedesk-smoke.XXXXXX)
TIMES="$OUT/times.txt"
: >"$TIMES"

echo "Unpacking $DEB into $WORK/root"
dpkg-deb -x "$DEB" "$WORK/root"
APP_DIR="$WORK/root/opt/tunedesk"
APP="$APP_DIR/tunedesk"
[ -x "$APP" ] && [ -L "$WORK/root/usr/bin/tunedesk" ] && [ -f "$WORK/root/usr/share/applications/tunedesk.desktop" ]
mkdir -p "$WORK/home"

# What the bundle may use from outside its folder: the C library and the system's shared libraries
# (X, GL, fonts), system data (locale, fonts, certificates), device and process files, and the user's
# TuneDesk home (runs, the hardware cache, temporary run folders).
# /memfd:xorg is the X server's shared-memory image buffer (MIT-SHM), not a file.
ALLOWED='^(/memfd:|/lib/|/lib64/|/usr/lib/|/usr/lib64/|/usr/share/(fonts|fontconfig|X11|locale|zoneinfo|icons|mime|glvnd|drirc\.d|egl|vulkan)|/etc/|/dev/|/proc/|/sys/|/run/|/var/cache/fontconfig|/tmp/|'"$WORK"'/)'

run_clean() { # run_clean ARGS...: the app with an empty environment and no network
    env -i HOME="$WORK/home" PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TMPDIR=/tmp \
        TUNEDESK_HOME="$WORK/home/tunedesk" "$@"
}

# System programs it may start: the smoke test's own wrappers, nvidia-smi (the GPU probe), and the sleep
# inhibitor that keeps the computer awake while it trains (systemd-inhibit around a `tail --pid`).
outside() { # outside FILE: the paths (one a line) that are outside the allowed places
    grep -vE "$ALLOWED" "$1" |
        grep -vE '^/(bin|sbin|usr/bin|usr/sbin)/(env|unshare|strace|nvidia-smi|systemd-inhibit|tail)$' |
        sort -u || true
}

traced_paths() { # traced_paths STRACE_LOG: the file each successful open/exec named (its first quoted string)
    sed -nE 's/^[0-9]+ +(openat|open|execve)\([^"]*"([^"]+)".*/\2/p' "$1" | grep '^/' | sort -u
}

echo "self-test (env -i, unshare -n, strace)..."
start=$(date +%s)
set +e
run_clean unshare -n strace -f -qq -e trace=openat,open,execve -e status=successful -o "$WORK/strace.txt" \
    "$APP" self-test --json >"$OUT/self-test.json" 2>"$OUT/self-test.stderr"
rc=$?
set -e
echo "self-test $(($(date +%s) - start)) s (exit $rc)" | tee -a "$TIMES"
head -c 4000 "$OUT/self-test.json"
echo
[ $rc -eq 0 ] && head -3 "$OUT/self-test.json" | grep -q '"passed": true' ||
    { echo "FAIL: self-test did not pass (see $OUT/self-test.json, self-test.stderr)" >&2; exit 1; }
# llama.cpp's CPU code is picked at run time from the modules in the bundle: the chat check names the one loaded.
if ls "$APP_DIR"/_internal/llama_cpp/lib/libggml-cpu-*.so >/dev/null 2>&1; then
    grep -o 'llama.cpp CPU code: [a-z0-9_]*' "$OUT/self-test.json" | tee -a "$TIMES" ||
        { echo "FAIL: the self-test's chat did not load one of the bundle's llama.cpp CPU modules" >&2; exit 1; }
fi
traced_paths "$WORK/strace.txt" >"$WORK/opened.txt"
echo "files opened: $(wc -l <"$WORK/opened.txt"), from the bundle: $(grep -c "^$APP_DIR/" "$WORK/opened.txt")"
outside "$WORK/opened.txt" >"$OUT/strace-outside.txt"
if [ -s "$OUT/strace-outside.txt" ]; then
    echo "FAIL: the self-test opened files outside the bundle:" >&2
    head -40 "$OUT/strace-outside.txt" >&2
    exit 1
fi
echo "ok: self-test passed; nothing opened outside the bundle but system files"

echo "window under Xvfb (env -i, unshare -n)..."
DISPLAY_NUM=:$((90 + RANDOM % 9))
Xvfb "$DISPLAY_NUM" -screen 0 1400x900x24 -nolisten tcp >"$WORK/xvfb.log" 2>&1 &
XVFB=$!
APP_PID=
cleanup() {
    [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null
    kill "$XVFB" 2>/dev/null
    true
}
trap cleanup EXIT
sleep 2
start=$(date +%s)
# Not through run_clean: a backgrounded shell function is a bash subshell, and its pid would be the shell's.
# env and unshare exec, so this pid is the app's own.
env -i HOME="$WORK/home" PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TMPDIR=/tmp \
    TUNEDESK_HOME="$WORK/home/tunedesk" DISPLAY="$DISPLAY_NUM" unshare -n "$APP" >"$OUT/gui.log" 2>&1 &
APP_PID=$!
win=
for _ in $(seq 1 180); do
    win=$(DISPLAY="$DISPLAY_NUM" xdotool search --name '^TuneDesk' 2>/dev/null | head -1 || true)
    [ -n "$win" ] && break
    kill -0 "$APP_PID" 2>/dev/null || break
    sleep 1
done
[ -n "$win" ] || { echo "FAIL: no TuneDesk window appeared (see $OUT/gui.log)" >&2; tail -20 "$OUT/gui.log" >&2; exit 1; }
echo "window after $(($(date +%s) - start)) s" | tee -a "$TIMES"
sleep 8 # let the first page finish drawing (hardware probe results arrive from a worker)
DISPLAY="$DISPLAY_NUM" import -window root "$OUT/window.png"
# The app is the unshare's child (unshare execs it: same pid) and its workers are its children.
for pid in $APP_PID $(pgrep -P "$APP_PID" || true); do
    cat "/proc/$pid/maps" 2>/dev/null
done | awk '{print $6}' | grep '^/' | sort -u >"$WORK/maps.txt"
outside "$WORK/maps.txt" >"$OUT/maps-outside.txt"
grep -c "^$APP_DIR/" "$WORK/maps.txt" | xargs echo "files mapped from the bundle:" | tee -a "$TIMES"
if [ -s "$OUT/maps-outside.txt" ]; then
    echo "FAIL: the window's process maps files from outside the bundle:" >&2
    cat "$OUT/maps-outside.txt" >&2
    exit 1
fi
echo "ok: window opened ($OUT/window.png); nothing mapped from outside the bundle but system libraries"
echo "Smoke test passed. Results in $OUT"
