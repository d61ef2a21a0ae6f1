#!/usr/bin/env bash
# Checks the engine against upstream libtorch 2.x: builds the engine, CLI, tests and benchmarks
# (no Qt) against Debian 13 (trixie)'s libtorch 2.6 in a chroot, then runs the whole test suite.
# The host (Debian 12) builds against libtorch 1.13; the same sources must pass both.
#
# Usage (as root, or it re-runs itself with sudo):
#   scripts/check-torch2.sh                 # create/reuse the chroot, build incrementally, run ctest
#   scripts/check-torch2.sh -- -R Bert      # arguments after -- go to ctest
#   scripts/check-torch2.sh --shell         # a shell in the chroot with the same mounts (/src, /shared, /build)
#   scripts/check-torch2.sh --run 'cd /build && ctest -R Clip'   # one command in the chroot, no build
#   scripts/check-torch2.sh --no-tests      # configure and build only
# Environment:
#   SYN_TORCH2_CHROOT   where the chroot lives (default $ROOT/.torch2-chroot, git-ignored)
#   SYN_TORCH2_MIRROR   Debian mirror (default: the host's, read from /etc/apt/sources.list*)
#   SYN_TORCH2_BUILD    build folder inside the chroot (default /build)
#   SYNESTHESIA_SHARED  reference fixtures (default $ROOT/../shared), mounted read-only at /shared
#   SYN_TORCH2_UPDATE=1 re-run apt-get update/upgrade in the chroot even when the package list is unchanged
# The first run (2 cores) takes ~45 min: debootstrap ~1 min, packages ~5 min (~1.5 GB), the full
# build ~28 min, ctest ~8 min. Later runs reuse the chroot, the build folder and ccache: ~8 min
# when little changed (mostly ctest).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SELF="$ROOT/scripts/$(basename "$0")"

if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "check-torch2: needs root (debootstrap, mount, chroot)" >&2; exit 1; }
    exec sudo --preserve-env=SYN_TORCH2_CHROOT,SYN_TORCH2_MIRROR,SYN_TORCH2_BUILD,SYNESTHESIA_SHARED,SYN_TORCH2_UPDATE \
        "$SELF" "$@"
fi

MODE=check
CTEST_ARGS=()
RUN_CMD=""
while [ $# -gt 0 ]; do
    case "$1" in
        --shell) MODE=shell ;;
        --run) [ $# -ge 2 ] || { echo "check-torch2: --run needs a command" >&2; exit 2; }
               MODE=run; RUN_CMD="$2"; shift ;;
        --no-tests) MODE=build ;;
        --) shift; CTEST_ARGS=("$@"); break ;;
        -h|--help) sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "check-torch2: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

SUITE=trixie
CHROOT="${SYN_TORCH2_CHROOT:-$ROOT/.torch2-chroot}"
mkdir -p "$CHROOT"
CHROOT="$(cd "$CHROOT" && pwd -P)"
SHARED="${SYNESTHESIA_SHARED:-$ROOT/../shared}"
BUILD_IN="${SYN_TORCH2_BUILD:-/build}"

# Packages inside the chroot: the engine's build and test dependencies (scripts/install-deps.sh minus
# Qt, under their trixie names) plus ccache.
PKGS=(
    build-essential cmake ninja-build pkg-config ccache
    libtorch-dev libopenblas0-openmp libopenblas-dev
    libsentencepiece-dev libopencv-dev
    nlohmann-json3-dev libzip-dev libssl-dev libutf8proc-dev libpcre2-dev
    libcli11-dev libboost-math-dev libyaml-cpp-dev libcurl4-openssl-dev
    libgtest-dev
    python3
    libgloo-dev
)

log() { printf '[check-torch2 %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
START=$SECONDS

# The host's Debian mirror (the first URI serving .../debian, not the security archive).
host_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'tolower($1)=="uris:" { for (i = 2; i <= NF; i++) print $i }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1=="deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i ~ /:\/\//) { print $i; break } }' "$f"
    done
}
MIRROR="${SYN_TORCH2_MIRROR:-$(host_mirror | grep -E '/debian/?$' | head -n1 || true)}"
[ -n "$MIRROR" ] || die "no Debian mirror found in /etc/apt/sources.list*; set SYN_TORCH2_MIRROR"

# One run at a time per chroot (two runs would unmount each other's mounts).
exec 9>"$CHROOT.lock"
flock -n 9 || die "another check-torch2 run holds $CHROOT.lock"

# Mounts below the chroot, deepest first (from /proc/mounts; paths there escape spaces as \040).
mounts_below() {
    awk -v root="$CHROOT/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r | uniq
}
unmount_all() {
    local m tries
    for tries in 1 2 3 4 5; do
        [ -z "$(mounts_below)" ] && return 0
        for m in $(mounts_below); do umount "$m" 2>/dev/null || true; done
        [ -z "$(mounts_below)" ] && return 0
        sleep 1
    done
    for m in $(mounts_below); do
        log "warning: $m is busy, detaching it lazily"
        umount -l "$m" || true
    done
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    unmount_all
    if [ -n "$(mounts_below)" ]; then log "warning: still mounted below $CHROOT:"; mounts_below >&2; fi
    log "done in $((SECONDS - START)) s, exit status $rc"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A run killed with SIGKILL may have left mounts behind.
unmount_all

# 1. The chroot (debootstrap once; a half-finished one is started again).
if [ ! -f "$CHROOT/.syn-debootstrap-done" ]; then
    [ -z "$(mounts_below)" ] || die "mounts remain below $CHROOT; refusing to reset it"
    if [ -n "$(ls -A "$CHROOT")" ]; then
        # Only ever empty a folder that debootstrap itself left half-done (it keeps debootstrap/ there).
        [ -d "$CHROOT/debootstrap" ] || die "$CHROOT is not empty and not a chroot of this script; remove it or set SYN_TORCH2_CHROOT"
        log "removing an unfinished chroot in $CHROOT"
        find "$CHROOT" -mindepth 1 -maxdepth 1 -xdev -exec rm -rf --one-file-system {} +
    fi
    command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
    log "debootstrap $SUITE (minbase, main+contrib) from $MIRROR into $CHROOT"
    debootstrap --variant=minbase --components=main,contrib "$SUITE" "$CHROOT" "$MIRROR"
    touch "$CHROOT/.syn-debootstrap-done"
    log "debootstrap finished after $((SECONDS - START)) s"
fi

# Name resolution for apt (and for the tests' local HTTP server: localhost).
cp -f /etc/resolv.conf "$CHROOT/etc/resolv.conf" 2>/dev/null || true
[ -s "$CHROOT/etc/hosts" ] || cp /etc/hosts "$CHROOT/etc/hosts"

# 2. Mounts: the kernel file systems, the sources (read-only), the reference fixtures (read-only).
mount_ro_bind() {  # <source> <target inside the chroot>
    mkdir -p "$CHROOT$2"
    mount --bind "$1" "$CHROOT$2"
    mount -o remount,bind,ro "$CHROOT$2"
}
mkdir -p "$CHROOT/proc" "$CHROOT/sys" "$CHROOT/dev"
mount -t proc proc "$CHROOT/proc"
mount_ro_bind /sys /sys
# A private /dev (tmpfs with the usual nodes), not a bind of the host's: then nothing below the
# repository aliases the host's device nodes (a stray `rm -rf` or `git clean -x` cannot reach them).
mount -t tmpfs -o mode=755,nosuid dev "$CHROOT/dev"
for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    IFS=: read -r name major minor <<<"$node"
    mknod -m 666 "$CHROOT/dev/$name" c "$major" "$minor"
done
ln -s /proc/self/fd "$CHROOT/dev/fd"
ln -s /proc/self/fd/0 "$CHROOT/dev/stdin"
ln -s /proc/self/fd/1 "$CHROOT/dev/stdout"
ln -s /proc/self/fd/2 "$CHROOT/dev/stderr"
mkdir -m 1777 "$CHROOT/dev/shm"
mkdir "$CHROOT/dev/pts"
if mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$CHROOT/dev/pts" 2>/dev/null; then
    ln -s pts/ptmx "$CHROOT/dev/ptmx"
fi
mount_ro_bind "$ROOT" /src
if [ -d "$SHARED" ]; then
    mount_ro_bind "$(cd "$SHARED" && pwd -P)" /shared
else
    log "warning: $SHARED is absent: the tests that need the reference fixtures will be skipped"
    mkdir -p "$CHROOT/shared"
fi

in_chroot() {
    chroot "$CHROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" CCACHE_DIR=/var/cache/ccache \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

# 3. Packages (again only when the list changed, or with SYN_TORCH2_UPDATE=1).
STAMP="$CHROOT/var/lib/syn-torch2-packages"
if [ "${SYN_TORCH2_UPDATE:-0}" = 1 ] || [ "$(cat "$STAMP" 2>/dev/null)" != "${PKGS[*]}" ]; then
    log "installing ${#PKGS[@]} packages in the chroot"
    in_chroot /bin/sh -ec '
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        apt-get -y dist-upgrade
        apt-get install -y --no-install-recommends "$@"
        apt-get clean' sh "${PKGS[@]}"
    printf '%s' "${PKGS[*]}" > "$STAMP"
    log "packages ready after $((SECONDS - START)) s"
fi

if [ "$MODE" = shell ]; then
    log "shell in $CHROOT (sources at /src, fixtures at /shared, build at $BUILD_IN); exit to unmount"
    in_chroot SYNESTHESIA_SHARED=/shared /bin/bash -i || true
    exit 0
fi
if [ "$MODE" = run ]; then
    in_chroot SYNESTHESIA_SHARED=/shared /bin/bash -c "$RUN_CMD"
    exit $?
fi

# 4. Configure, build, test inside the chroot.
log "libtorch-dev in the chroot: $(in_chroot dpkg-query -W -f='${Version}' libtorch-dev)"
in_chroot SYNESTHESIA_SHARED=/shared BUILD="$BUILD_IN" MODE="$MODE" \
    /bin/bash -euo pipefail -c '
    t0=$SECONDS
    ccache --max-size=5G >/dev/null
    cmake -S /src -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
        -DSYN_BUILD_UI=OFF -DSYN_BUILD_TESTS=ON -DSYN_BUILD_BENCHMARKS=ON
    cmake --build "$BUILD" -j"$(nproc)"
    echo "[check-torch2] build took $((SECONDS - t0)) s; ccache: $(ccache -s | grep -iE "^ *(hits|misses):" | head -n2 | tr -s " " | tr "\n" " ")"
    vh=$(find /usr/include -path "*/include/torch/version.h" | head -n1)
    echo "[check-torch2] TORCH_VERSION in $vh: $(grep -A1 "define TORCH_VERSION\b" "$vh" | grep -o "\"[^\"]*\"" | head -n1)"
    echo "[check-torch2] synesthesia device:"
    "$BUILD/app/synesthesia" device
    [ "$MODE" = check ] || exit 0
    t1=$SECONDS
    cd "$BUILD"
    ctest --output-on-failure -j2 "$@"
    echo "[check-torch2] ctest took $((SECONDS - t1)) s"
    ' bash ${CTEST_ARGS[@]+"${CTEST_ARGS[@]}"}
log "libtorch 2.x check passed"
