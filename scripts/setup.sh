#!/usr/bin/env bash
# Everything a fresh machine needs before Tessera can be built and tested:
# system tools, the Rust components CI uses, the guest components, and the
# host binary. Safe to run again; fast when nothing changed.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

log() { printf 'setup: %s\n' "$*" >&2; }

# Tools the tests use as independent checkers: openssl (signature
# verification), sha384sum (module digests).
missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v sha384sum >/dev/null || missing+=(coreutils)
# The VM image (images/build.sh) and its tests: Debian's kernel is fetched by
# apt-get download; qemu boots the image; OVMF.fd is the firmware measured.
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
[[ -f /usr/share/ovmf/OVMF.fd ]] || missing+=(ovmf)
command -v python3 >/dev/null || missing+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v gzip >/dev/null || missing+=(gzip)
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# images/build.sh resolves Debian package versions through apt: it needs apt's lists.
if ! apt-cache policy linux-image-amd64 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    log "updating apt's package lists (images/build.sh resolves Debian packages)"
    apt-get update -qq
fi

command -v cargo >/dev/null || { log "error: no Rust toolchain (cargo) on PATH"; exit 1; }
for component in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
        log "adding rustup component $component"
        rustup component add "$component" || log "warning: could not add $component"
    fi
done

# A JWT library outside this project, to check JWT-SVIDs (tests/requirements.txt).
TEST_VENV=$ROOT/target/test-venv
if ! cmp -s tests/requirements.txt "$TEST_VENV/requirements.txt" 2>/dev/null; then
    log "installing the tests' Python checkers into target/test-venv"
    python3 -m venv "$TEST_VENV"
    "$TEST_VENV/bin/pip" install --quiet -r tests/requirements.txt
    cp tests/requirements.txt "$TEST_VENV/requirements.txt"
fi

# sev-snp-measure, the independent SEV-SNP measurement the image tests compare with.
snp_venv=$ROOT/target/snp-venv
if ! [[ -x $snp_venv/bin/sev-snp-measure ]]; then
    log "installing sev-snp-measure into $snp_venv"
    python3 -m venv "$snp_venv"
    "$snp_venv/bin/pip" install --quiet -r images/requirements.txt
fi

log "building guest components"
guests/build.sh

log "building the host (release; the first build compiles wasmtime and takes ~10 min on 2 cores)"
cargo build --release --locked --workspace
log "ready: target/release/tessera, target/guests/*.wasm"
