#!/usr/bin/env bash
# Builds every Tessera guest (examples and test programs) as a WebAssembly
# component and copies each one to <repo>/target/guests/NAME.wasm.
#
# Two routes, tried in this order:
#   1. rustup: `rustup target add wasm32-wasip2` and a plain cargo build
#      (a developer machine with internet access);
#   2. Debian: Debian's rustc-web + rust-web-src + wasi-libc + lld, building std
#      for wasm32-wasip2 with -Zbuild-std (machines where rustup cannot download
#      targets). Missing Debian packages are installed with apt-get.
#
# Set TESSERA_GUEST_ROUTE=rustup or TESSERA_GUEST_ROUTE=debian to force a route.
# Runnable from any directory; a second run with nothing changed takes seconds.
set -euo pipefail

readonly TARGET=wasm32-wasip2
readonly COMPONENTS=(hello-identity signer credentials mtls-peer spin grow memdump exit-code hostile secrets-probe)
# The first 8 bytes of a component: "\0asm", version 0x0d, layer 1.
readonly COMPONENT_HEADER="0061736d0d000100"
# Debian packages for route 2: rust-web-src has std's sources for -Zbuild-std,
# rust-web-llvm has wasm-component-ld, lld has wasm-ld (its version follows
# rustc-web's LLVM), wasi-libc is the C library std links against.
readonly DEBIAN_LLVM=22
readonly DEBIAN_PACKAGES=(rustc-web cargo-web rust-web-src rust-web-llvm "lld-$DEBIAN_LLVM" wasi-libc)
readonly WASI_SYSROOT_LIB=/usr/lib/wasm32-wasi

GUESTS_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname -- "$GUESTS_DIR")
readonly GUESTS_DIR REPO_DIR
readonly OUT_DIR=$REPO_DIR/target/guests
readonly BUILD_DIR=$REPO_DIR/target/guest-build
# Set when `rustup target add` failed, so that later runs skip that slow attempt
# for a day (delete it to retry at once).
readonly RUSTUP_FAILED_MARKER=$BUILD_DIR/rustup-target-unavailable

log() { printf 'guests: %s\n' "$*" >&2; }
die() {
    printf 'guests: error: %s\n' "$*" >&2
    exit 1
}

cargo_flags=(build --release --workspace --target "$TARGET" --manifest-path "$GUESTS_DIR/Cargo.toml")
if [[ -f $GUESTS_DIR/Cargo.lock ]]; then
    cargo_flags+=(--locked)
fi

# Route 1: rustup's wasm32-wasip2 target. Returns non-zero if the target cannot be had.
build_with_rustup() {
    command -v rustup >/dev/null || {
        log "rustup not found"
        return 1
    }
    if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
        if [[ -n $(find "$RUSTUP_FAILED_MARKER" -mmin -1440 2>/dev/null) ]]; then
            log "rustup: $TARGET unavailable (tried less than a day ago; see $RUSTUP_FAILED_MARKER)"
            return 1
        fi
        log "rustup: adding target $TARGET"
        if ! timeout 120 rustup target add "$TARGET" >&2; then
            log "rustup: cannot add $TARGET (offline?)"
            mkdir -p "$BUILD_DIR"
            date >"$RUSTUP_FAILED_MARKER"
            return 1
        fi
        rm -f "$RUSTUP_FAILED_MARKER"
    fi
    log "rustup: building with $(rustc --version)"
    CARGO_TARGET_DIR=$BUILD_DIR/rustup cargo "${cargo_flags[@]}" || die "cargo build failed (rustup route)"
    artifact_dir=$BUILD_DIR/rustup/$TARGET/release
}

debian_toolchain_present() {
    [[ -x /usr/bin/rustc && -x /usr/bin/cargo ]] &&
        [[ -d /usr/lib/rustlib/src/rust/library/std ]] &&
        [[ -f $WASI_SYSROOT_LIB/crt1-command.o && -f $WASI_SYSROOT_LIB/libc.a ]] &&
        [[ -x /usr/lib/llvm-$DEBIAN_LLVM/bin/wasm-ld ]] &&
        [[ -x /usr/lib/rustlib/x86_64-unknown-linux-gnu/bin/wasm-component-ld ]]
}

install_debian_toolchain() {
    local sudo=()
    if [[ $EUID -ne 0 ]]; then
        command -v sudo >/dev/null || die "need root (or sudo) to install: ${DEBIAN_PACKAGES[*]}"
        sudo=(sudo)
    fi
    log "debian: installing ${DEBIAN_PACKAGES[*]}"
    "${sudo[@]}" apt-get update -q >&2 || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
        "${DEBIAN_PACKAGES[@]}" >&2 || die "apt-get install failed"
    debian_toolchain_present || die "Debian toolchain still incomplete after installing ${DEBIAN_PACKAGES[*]}"
}

# Route 2: Debian's rustc-web with -Zbuild-std, linking against Debian's wasi-libc.
build_with_debian() {
    debian_toolchain_present || install_debian_toolchain
    log "debian: building with $(/usr/bin/rustc --version) and -Zbuild-std"
    # Every guest is a command (wasi:cli/run), hence crt1-command.o.
    env PATH="/usr/bin:/usr/lib/llvm-$DEBIAN_LLVM/bin:$PATH" \
        RUSTC=/usr/bin/rustc \
        RUSTDOC=/usr/bin/rustdoc \
        RUSTC_BOOTSTRAP=1 \
        RUSTFLAGS="-L $WASI_SYSROOT_LIB -C link-self-contained=no -C link-arg=$WASI_SYSROOT_LIB/crt1-command.o" \
        CARGO_TARGET_DIR="$BUILD_DIR/debian" \
        /usr/bin/cargo "${cargo_flags[@]}" -Zbuild-std=std,panic_abort ||
        die "cargo build failed (Debian route)"
    artifact_dir=$BUILD_DIR/debian/$TARGET/release
}

# rustup picks its toolchain from the current directory: use the guests' own.
cd "$GUESTS_DIR"
SECONDS=0
artifact_dir=
case ${TESSERA_GUEST_ROUTE:-auto} in
rustup) build_with_rustup || die "rustup route unavailable" ;;
debian) build_with_debian ;;
auto) build_with_rustup || {
    log "falling back to Debian's toolchain"
    build_with_debian
} ;;
*) die "TESSERA_GUEST_ROUTE must be rustup, debian or auto, not '$TESSERA_GUEST_ROUTE'" ;;
esac

mkdir -p "$OUT_DIR"
for name in "${COMPONENTS[@]}"; do
    src=$artifact_dir/$name.wasm
    dst=$OUT_DIR/$name.wasm
    [[ -f $src ]] || die "$src was not built"
    if ! cmp -s "$src" "$dst"; then
        cp "$src" "$dst.tmp"
        mv -f "$dst.tmp" "$dst"
    fi
    header=$(od -An -tx1 -N8 "$dst" | tr -d ' \n')
    [[ $header == "$COMPONENT_HEADER" ]] ||
        die "$dst is not a component (header $header, want $COMPONENT_HEADER)"
    log "$(printf '%-16s %8d bytes' "$name.wasm" "$(stat -c %s "$dst")")"
done
log "done in ${SECONDS}s: ${#COMPONENTS[@]} components in $OUT_DIR"

# ---------------------------------------------------------------------------
# Python and JavaScript guests (issue 6): the signer example, built with
# componentize-py (guests/python, pinned in requirements.txt) and with
# `jco componentize` (guests/js, pinned in package.json + package-lock.json).
#
# Each guest's world (guests/*/wit/signer.wit) includes tessera:workload/workload
# and exports wasi:cli/run@0.2.12. Neither pinned tool ships WASI WIT that can be
# passed to it (componentize-py ships none; jco 1.30 none; jco 1.35, which does,
# cannot read WIT from a path), so the wasi:* packages come from the host's own
# wasmtime-wasi crate (its src/p2/wit/deps): exactly the WASI the host provides.
# ---------------------------------------------------------------------------
readonly POLYGLOT_WIT=$BUILD_DIR/polyglot-wit
readonly PY_VENV=$REPO_DIR/target/py-venv

# Whether $1 exists and is newer than every file under the remaining paths.
up_to_date() {
    local out=$1
    shift
    [[ -f $out ]] || return 1
    [[ -z $(find "$@" -newer "$out" -not -path '*/node_modules/*' -not -path '*/__pycache__/*' -print -quit 2>/dev/null) ]]
}

# The host's WASI 0.2 WIT directory, from the wasmtime-wasi crate cargo resolved.
wasi_wit_dir() {
    local manifest
    manifest=$(cd "$REPO_DIR" && cargo metadata --locked --format-version 1 2>/dev/null |
        python3 -c 'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"]=="wasmtime-wasi"))') ||
        die "cannot locate the wasmtime-wasi crate (cargo metadata failed in $REPO_DIR)"
    local dir
    dir=$(dirname -- "$manifest")/src/p2/wit/deps
    [[ -f $dir/cli.wit ]] || die "no WASI WIT in $dir"
    printf '%s\n' "$dir"
}

# Lays out DIR/NAME: world file at the top, tessera + WASI packages in deps/.
assemble_wit() {
    local world=$1 dir=$2 wasi=$3
    rm -rf "$dir"
    mkdir -p "$dir/deps"
    cp "$world" "$dir/"
    cp "$REPO_DIR/wit/tessera.wit" "$dir/deps/"
    cp "$wasi"/*.wit "$dir/deps/"
}

check_component() {
    local dst=$1 header
    header=$(od -An -tx1 -N8 "$dst" | tr -d ' \n')
    [[ $header == "$COMPONENT_HEADER" ]] ||
        die "$dst is not a component (header $header, want $COMPONENT_HEADER)"
    log "$(printf '%-16s %8d bytes' "$(basename -- "$dst")" "$(stat -c %s "$dst")")"
}

SECONDS=0
wasi_wit=$(wasi_wit_dir)

ensure_py_venv() {
    command -v python3 >/dev/null || die "python3 not found"
    if ! up_to_date "$PY_VENV/.installed" "$GUESTS_DIR/python/requirements.txt"; then
        log "python: installing $(tr '\n' ' ' <"$GUESTS_DIR/python/requirements.txt")into $PY_VENV"
        [[ -x $PY_VENV/bin/pip ]] || python3 -m venv "$PY_VENV" || die "python3 -m venv failed"
        "$PY_VENV/bin/pip" install --quiet -r "$GUESTS_DIR/python/requirements.txt" || die "pip install failed"
        touch "$PY_VENV/.installed"
    fi
    assemble_wit "$GUESTS_DIR/python/wit/signer.wit" "$POLYGLOT_WIT/python" "$wasi_wit"
}

# build_py OUT MODULE SOURCE_DIR...: componentize-py MODULE, found on the
# Python path made of the SOURCE_DIRs, into OUT (skipped when up to date).
build_py() {
    local out=$1 module=$2 paths=() dir
    shift 2
    if up_to_date "$out" "$@" "$GUESTS_DIR/python/wit" "$REPO_DIR/wit" "$wasi_wit"; then
        log "$(basename -- "$out") up to date"
    else
        ensure_py_venv
        for dir in "$@"; do paths+=(--python-path "$dir"); done
        log "python: componentize-py $("$PY_VENV/bin/componentize-py" --version | awk '{print $2}') building $(basename -- "$out")"
        PYTHONDONTWRITEBYTECODE=1 "$PY_VENV/bin/componentize-py" --quiet -d "$POLYGLOT_WIT/python" -w tessera:signer-py/signer \
            componentize "${paths[@]}" "$module" -o "$out.tmp" ||
            die "componentize-py failed"
        mv -f "$out.tmp" "$out"
    fi
    check_component "$out"
}

ensure_node_modules() {
    command -v npm >/dev/null || die "npm not found"
    if ! up_to_date "$GUESTS_DIR/js/node_modules/.package-lock.json" "$GUESTS_DIR/js/package-lock.json"; then
        log "js: npm ci in $GUESTS_DIR/js"
        (cd "$GUESTS_DIR/js" && npm ci --no-audit --no-fund >&2) || die "npm ci failed"
    fi
    assemble_wit "$GUESTS_DIR/js/wit/signer.wit" "$POLYGLOT_WIT/js" "$wasi_wit"
}

# build_js OUT SOURCE [INPUT...]: `jco componentize` SOURCE into OUT (skipped
# when OUT is newer than guests/js and the INPUTs SOURCE was made from).
build_js() {
    local out=$1 source=$2
    shift 2
    if up_to_date "$out" "$GUESTS_DIR/js" "$@" "$REPO_DIR/wit" "$wasi_wit"; then
        log "$(basename -- "$out") up to date"
    else
        ensure_node_modules
        log "js: jco $("$GUESTS_DIR/js/node_modules/.bin/jco" --version) building $(basename -- "$out")"
        # No wasi:http: the host does not provide it, and the signer needs no fetch().
        "$GUESTS_DIR/js/node_modules/.bin/jco" componentize "$source" \
            --wit "$POLYGLOT_WIT/js" --world-name signer --disable http fetch-event \
            -o "$out.tmp" >&2 || die "jco componentize failed"
        mv -f "$out.tmp" "$out"
    fi
    check_component "$out"
}

build_py "$OUT_DIR/signer-py.wasm" app "$GUESTS_DIR/python"
build_js "$OUT_DIR/signer-js.wasm" "$GUESTS_DIR/js/signer.js"

# Test programs for the guest-memory scan (tests/tests/polyglot_memory.rs): each
# signer unchanged, then a busy loop until the runtime's deadline traps it, so
# that `tessera run --coredump-on-trap` captures its memories right after signing.
readonly HOLD_DIR=$GUESTS_DIR/test-programs/signer-hold
build_py "$OUT_DIR/signer-py-hold.wasm" hold "$HOLD_DIR/python" "$GUESTS_DIR/python"
hold_js=$BUILD_DIR/signer-hold-js/signer-hold.js
mkdir -p "$(dirname -- "$hold_js")"
# The signer's own `run` export becomes `signerRun`, which hold.js calls.
[[ $(grep -c '^export const run = {$' "$GUESTS_DIR/js/signer.js") == 1 ]] ||
    die "guests/js/signer.js must have exactly one line 'export const run = {' (hold.js wraps it)"
sed 's/^export const run = {$/const signerRun = {/' "$GUESTS_DIR/js/signer.js" >"$hold_js.tmp"
cat "$HOLD_DIR/js/hold.js" >>"$hold_js.tmp"
if cmp -s "$hold_js.tmp" "$hold_js"; then rm -f "$hold_js.tmp"; else mv -f "$hold_js.tmp" "$hold_js"; fi
build_js "$OUT_DIR/signer-js-hold.wasm" "$hold_js" "$HOLD_DIR/js"
log "python/js done in ${SECONDS}s"
