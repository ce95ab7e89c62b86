#!/usr/bin/env bash
# Builds Tessera's confidential-VM image for measured direct boot:
#
#   target/image/vmlinuz        Debian's kernel (linux-image-amd64 from bookworm-backports), unchanged
#   target/image/initrd.img     gzip'd cpio: /init = tessera, its libraries, CA roots, workloads,
#                               the configfs, tsm (configfs-tsm), sev-guest and tdx-guest kernel modules,
#                               virtio_net and the failover modules it needs
#   target/image/cmdline        the kernel command line (measured with SEV-SNP's kernel hashes)
#   target/image/manifest.json  every input's Debian package, version and SHA-256, and the outputs' digests
#
# usage: images/build.sh [--attester auto|sev-snp|tdx|sim] [--workload FILE.wasm]... [--out DIR]
#                        [--tessera BINARY] [--refresh-kernel-index]
#                        [--net IFACE,ADDRESS/PREFIX[,GATEWAY]]
#                        [--serve PORT [--issuer URL] [--uploader KEY.pub.pem]...]
#
# --attester goes into the measured command line (tessera.attester=...); the
# default is auto (the VM's TEE, never the sim). --attester sim builds a
# development image whose launch digest differs from every production one.
# Workloads default to target/guests/hello-identity.wasm; a NAME.toml beside
# NAME.wasm is baked in as its manifest. --tessera takes an already built
# binary instead of running cargo build. --net, --serve and --issuer become
# tessera.net=, tessera.serve= and tessera.issuer= on the measured command line:
# the VM configures that interface (virtio-net) and, after its workloads, runs
# `tessera serve` on 0.0.0.0:PORT as its service instead of powering off.
# --uploader bakes an uploader's public key into the image: the service then
# stores only secrets signed by one (without any, it refuses uploads).
#
# Reproducible: the same inputs give byte-identical outputs. Times come from
# SOURCE_DATE_EPOCH (default: the last commit's time), the cpio is sorted with
# fixed owners, modes and inode numbers (images/mkcpio.py), gzip runs with -n.
# Debian packages are fetched with apt-get download (checked by apt against the
# signed archive) into target/image-cache/ and reused.
#
# The kernel comes from bookworm-backports (Debian 12's own 6.1 has no TDX guest
# driver and no configfs-tsm), resolved through a private apt configuration in
# target/image-cache/apt (the system's apt sources are not touched; the mirror is
# the one the system's sources use, or TESSERA_DEBIAN_MIRROR). Its index is
# fetched once and then kept, so builds keep resolving the same kernel until
# --refresh-kernel-index fetches it again: a newer backports kernel is a new
# vmlinuz and new modules, so a new launch digest (manifest.json records the
# version). Pin a kernel with TESSERA_KERNEL_PACKAGE=linux-image-X-amd64=VERSION
# (from backports or, failing that, the system's apt sources).
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

log() { printf 'image: %s\n' "$*" >&2; }
die() { printf 'image: error: %s\n' "$*" >&2; exit 1; }

attester=auto
out=$ROOT/target/image
workloads=()
tessera=
refresh_index=0
serve=
net=
issuer=
uploaders=()
while (($#)); do
    case $1 in
        --attester) attester=${2:?--attester needs a value}; shift 2 ;;
        --workload) workloads+=("${2:?--workload needs a file}"); shift 2 ;;
        --out) out=${2:?--out needs a directory}; shift 2 ;;
        --tessera) tessera=${2:?--tessera needs a file}; shift 2 ;;
        --refresh-kernel-index) refresh_index=1; shift ;;
        --serve) serve=${2:?--serve needs a port}; shift 2 ;;
        --net) net=${2:?--net needs IFACE,ADDRESS/PREFIX[,GATEWAY]}; shift 2 ;;
        --issuer) issuer=${2:?--issuer needs a URL}; shift 2 ;;
        --uploader) uploaders+=("${2:?--uploader needs a public key file}"); shift 2 ;;
        -h | --help) sed -n '2,42p' "$0"; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
case $attester in auto | sev-snp | tdx | sim) ;; *) die "--attester must be auto, sev-snp, tdx or sim, not $attester" ;; esac
# The service settings go into the measured command line; tessera boot checks
# them again in the VM, this only keeps spaces and odd characters out.
[[ -z $serve || $serve =~ ^[1-9][0-9]{0,4}$ ]] || die "--serve must be a TCP port, not $serve"
[[ -z $net || $net =~ ^[A-Za-z0-9_-]{1,15},[0-9.]+/[0-9]{1,2}(,[0-9.]+)?$ ]] || die "--net must be IFACE,ADDRESS/PREFIX[,GATEWAY], not $net"
[[ -z $issuer || $issuer =~ ^https?://[^[:space:]?#]+$ ]] || die "--issuer must be an http(s) URL without spaces, query or fragment, not $issuer"
[[ -z $issuer || -n $serve ]] || die "--issuer needs --serve"
((${#uploaders[@]} == 0)) || [[ -n $serve ]] || die "--uploader needs --serve"
for u in "${uploaders[@]}"; do
    grep -q -- '-----BEGIN PUBLIC KEY-----' "$u" 2>/dev/null || die "uploader key $u is not a public key PEM (openssl pkey -pubout)"
done
((${#workloads[@]})) || workloads=("$ROOT/target/guests/hello-identity.wasm")
for w in "${workloads[@]}"; do
    [[ -f $w && $w == *.wasm ]] || die "workload $w is not a .wasm file (run guests/build.sh for the examples)"
done
for tool in apt-get apt-cache dpkg-deb dpkg-query python3 gzip sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is missing (Debian: apt-get install apt dpkg python3 gzip coreutils)"
done

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 0)}
export TZ=UTC LC_ALL=C
cache=$ROOT/target/image-cache
work=$(mktemp -d "${TMPDIR:-/tmp}/tessera-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$cache" "$out"

if [[ -z $tessera ]]; then
    log "[1/5] tessera binary (cargo build --release --workspace)"
    cargo build --release --locked --workspace >&2
    tessera=$ROOT/target/release/tessera
else
    log "[1/5] tessera binary: $tessera"
    [[ -x $tessera ]] || die "--tessera $tessera is not an executable"
fi

# Fetches PACKAGE[=VERSION] into the cache (apt checks it against the signed
# archive) and prints the .deb's path. Further arguments are apt options (the
# private backports configuration); without them the system's apt is used.
fetch_deb() {
    local spec=$1 name=${1%%=*} version
    shift
    if [[ $spec == *=* ]]; then version=${spec#*=}; else
        version=$(apt-cache "$@" policy "$name" | awk '/Candidate:/ { print $2 }')
    fi
    [[ -n $version && $version != "(none)" ]] || die "no version of $name is known to apt (run apt-get update)"
    local deb
    deb=$(find "$cache" -maxdepth 1 -name "${name}_${version//:/%3a}_*.deb" -print -quit)
    if [[ -z $deb ]]; then
        log "      apt-get download $name=$version"
        local hint=
        (($#)) && hint=" (the kept backports index may name a kernel the archive no longer has: try --refresh-kernel-index)"
        (cd "$cache" && apt-get "$@" download -q "$name=$version" >&2) || die "apt-get download $name=$version failed$hint"
        deb=$(find "$cache" -maxdepth 1 -name "${name}_${version//:/%3a}_*.deb" -print -quit)
    fi
    [[ -n $deb ]] || die "apt-get download left no .deb for $name=$version"
    printf '%s\n' "$deb"
}

installed_version() { dpkg-query -W -f='${Version}' "$1"; }

manifest_inputs=()
record() { # PACKAGE VERSION DEB
    manifest_inputs+=("$(printf '{"package":"%s","version":"%s","deb_sha256":"%s"}' "$1" "$2" "$(sha256sum "$3" | cut -d' ' -f1)")")
}

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[[ -n $codename ]] || die "/etc/os-release names no VERSION_CODENAME (the backports suite is CODENAME-backports)"
log "[2/5] kernel (Debian linux-image-amd64 from $codename-backports, or TESSERA_KERNEL_PACKAGE)"
# A private apt configuration that knows only backports: its own sources.list,
# index, cache and (empty) dpkg status, so neither the system's sources nor
# what the build machine has installed changes which kernel is resolved.
mirror=${TESSERA_DEBIAN_MIRROR:-$(apt-get indextargets --format '$(REPO_URI) $(CODENAME) $(TARGET_OF)' |
    awk -v c="$codename" '$2 == c && $3 == "deb" { print $1; exit }')}
[[ -n $mirror ]] || die "the system's apt sources have no $codename archive to take the mirror from (run apt-get update, or set TESSERA_DEBIAN_MIRROR)"
apt_dir=$cache/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/empty.d"
sources="deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $codename-backports main"
if [[ ! -f $apt_dir/sources.list || $(<"$apt_dir/sources.list") != "$sources" ]]; then
    printf '%s\n' "$sources" >"$apt_dir/sources.list"
    refresh_index=1
fi
: >"$apt_dir/status"
bpo=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o "Dir::Etc::sourceparts=$apt_dir/empty.d"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "Dir::State::status=$apt_dir/status"
    -o Dir::Etc::preferences=/dev/null -o "Dir::Etc::preferencesparts=$apt_dir/empty.d")
if ((refresh_index)) || ! compgen -G "$apt_dir/lists/*_Packages*" >/dev/null; then
    log "      apt-get update ($codename-backports index into target/image-cache/apt)"
    apt-get "${bpo[@]}" update -q >&2 || die "apt-get update of $codename-backports failed"
fi
if [[ -n ${TESSERA_KERNEL_PACKAGE:-} ]]; then
    kernel_spec=$TESSERA_KERNEL_PACKAGE
    [[ $kernel_spec == linux-image-*=* ]] || die "TESSERA_KERNEL_PACKAGE must be linux-image-NAME=VERSION, not $kernel_spec"
    # A pinned version backports does not have may be one of the system's (e.g. Debian 12's 6.1).
    if ! apt-cache "${bpo[@]}" madison "${kernel_spec%%=*}" | awk -v v="${kernel_spec#*=}" '$3 == v { found = 1 } END { exit !found }'; then
        bpo=()
    fi
else
    kernel_name=$(apt-cache "${bpo[@]}" depends linux-image-amd64 | awk '/Depends: linux-image-/ { print $2; exit }')
    [[ -n $kernel_name ]] || die "cannot resolve linux-image-amd64 in $codename-backports (try --refresh-kernel-index)"
    kernel_spec=$kernel_name=$(apt-cache "${bpo[@]}" policy "$kernel_name" | awk '/Candidate:/ { print $2 }')
fi
kernel_deb=$(fetch_deb "$kernel_spec" "${bpo[@]}")
kernel_pkg=${kernel_spec%%=*}
kernel_version=$(dpkg-deb -f "$kernel_deb" Version)
record "$kernel_pkg" "$kernel_version" "$kernel_deb"
dpkg-deb --fsys-tarfile "$kernel_deb" | tar -x -C "$work" --wildcards './boot/vmlinuz-*' './boot/config-*' \
    './lib/modules/*/kernel/fs/configfs/*' './lib/modules/*/kernel/drivers/virt/*' \
    './lib/modules/*/kernel/net/core/failover.ko*' './lib/modules/*/kernel/drivers/net/net_failover.ko*' \
    './lib/modules/*/kernel/drivers/net/virtio_net.ko*'
cp "$work"/boot/vmlinuz-* "$work/vmlinuz"
kernel_release=$(basename "$(find "$work/lib/modules" -mindepth 1 -maxdepth 1 -type d -print -quit)")
# The modules tessera boot loads, in dependency order (images/kmods.py checks
# it against each module's depends=): configfs; tsm (configfs-tsm's reports,
# 6.7+); the SEV-SNP (/dev/sev-guest) and TDX (/dev/tdx_guest) guest drivers,
# which register with tsm; and the virtio network driver (with the failover
# modules it needs) for tessera.net=. Debian builds all of them as modules. A module this
# kernel lacks (an older pinned kernel) is left out with a warning.
kernel_modules=()
for m in configfs tsm sev-guest tdx-guest failover net_failover virtio_net; do
    found=$(find "$work/lib/modules/$kernel_release/kernel" -name "$m.ko" -o -name "$m.ko.*" | sort | head -n1)
    if [[ -z $found ]]; then
        log "      warning: kernel $kernel_release has no module $m (built in, or too old); the image goes without it"
        continue
    fi
    kernel_modules+=("${found#"$work/lib/modules/$kernel_release/"}")
done
# Debian 6.12 ships its modules xz-compressed; the kernel then decompresses them
# itself (finit_module's MODULE_INIT_COMPRESSED_FILE, CONFIG_MODULE_DECOMPRESS),
# so the image carries Debian's module files unchanged. A kernel without it gets
# them decompressed here (xz is deterministic).
if ! grep -qx 'CONFIG_MODULE_DECOMPRESS=y' "$work"/boot/config-*; then
    for i in "${!kernel_modules[@]}"; do
        m=${kernel_modules[$i]}
        [[ $m == *.ko.xz ]] || continue
        command -v xz >/dev/null || die "xz is missing (Debian: apt-get install xz-utils): the kernel cannot decompress its modules itself"
        xz -dc "$work/lib/modules/$kernel_release/$m" >"$work/lib/modules/$kernel_release/${m%.xz}"
        kernel_modules[i]=${m%.xz}
    done
fi
(cd "$work/lib/modules/$kernel_release" && python3 "$ROOT/images/kmods.py" "${kernel_modules[@]}") |
    sed 's/^/      module /' >&2 || die "the kernel modules are not in dependency order (images/kmods.py)"

log "[3/5] initramfs contents (tessera, its libraries from libc6/libgcc-s1, CA roots from ca-certificates, ${#kernel_modules[@]} kernel modules)"
stage=$work/root
mkdir -p "$stage"/{usr/bin,lib/x86_64-linux-gnu,lib64,etc/ssl/certs,etc/tessera/workloads,proc,sys,dev,run,tmp}
cp "$tessera" "$stage/usr/bin/tessera"
ln -s usr/bin/tessera "$stage/init"
# The binary's libraries must be the ones it was linked against: the installed versions.
for pkg in libc6 libgcc-s1; do
    version=$(installed_version "$pkg")
    deb=$(fetch_deb "$pkg=$version")
    record "$pkg" "$version" "$deb"
    mkdir -p "$work/$pkg"
    dpkg-deb -x "$deb" "$work/$pkg"
done
needed=$(ldd "$tessera" | awk '/=>/ { print $1 } /ld-linux/ { print $1 }' | sort -u)
for lib in $needed; do
    name=$(basename "$lib")
    [[ $name == linux-vdso.so.1 ]] && continue
    src=$(find "$work/libc6" "$work/libgcc-s1" -name "$name" -type f -print -quit)
    [[ -n $src ]] || die "library $name of tessera is in neither libc6 nor libgcc-s1"
    if [[ $name == ld-linux-x86-64.so.2 ]]; then dest=$stage/lib64/$name; else dest=$stage/lib/x86_64-linux-gnu/$name; fi
    cp -L "$src" "$dest"
done
ca_version=$(apt-cache policy ca-certificates | awk '/Candidate:/ { print $2 }')
ca_deb=$(fetch_deb "ca-certificates=$ca_version")
record ca-certificates "$ca_version" "$ca_deb"
dpkg-deb -x "$ca_deb" "$work/ca"
# update-ca-certificates' bundle: the Mozilla roots the package ships, concatenated in name order.
find "$work/ca/usr/share/ca-certificates/mozilla" -name '*.crt' -print0 | sort -z |
    xargs -0 cat >"$stage/etc/ssl/certs/ca-certificates.crt"
for m in "${kernel_modules[@]}"; do
    mkdir -p "$stage/lib/modules/$kernel_release/$(dirname "$m")"
    cp "$work/lib/modules/$kernel_release/$m" "$stage/lib/modules/$kernel_release/$m"
done
printf '%s\n' "${kernel_modules[@]}" >"$stage/etc/tessera/modules"
# Uploader public keys: in the initramfs, so measured; tessera boot passes them
# to tessera serve (--uploader), which then stores only uploads they signed.
if ((${#uploaders[@]})); then
    mkdir -p "$stage/etc/tessera/uploaders"
    for i in "${!uploaders[@]}"; do
        cp "${uploaders[$i]}" "$(printf '%s/etc/tessera/uploaders/%02d.pem' "$stage" "$i")"
    done
fi
for w in "${workloads[@]}"; do
    name=$(basename "$w" .wasm)
    cp "$w" "$stage/etc/tessera/workloads/$name.wasm"
    [[ -f ${w%.wasm}.toml ]] && cp "${w%.wasm}.toml" "$stage/etc/tessera/workloads/$name.toml"
done
find "$stage" -type f -print0 | sort -z | xargs -0 chmod u+w

log "[4/5] initrd.img (sorted newc cpio, gzip -n)"
python3 "$ROOT/images/mkcpio.py" "$stage" "$SOURCE_DATE_EPOCH" c:/dev/console:0600:5:1 c:/dev/null:0666:1:3 |
    gzip -n -9 >"$work/initrd.img"

# `-- boot` hands `boot` to /init; tessera.attester is read by `tessera boot`.
service_words=
[[ -n $net ]] && service_words+=" tessera.net=$net"
[[ -n $serve ]] && service_words+=" tessera.serve=$serve"
[[ -n $issuer ]] && service_words+=" tessera.issuer=$issuer"
printf 'console=ttyS0 loglevel=4 panic=-1 tessera.attester=%s%s -- boot' "$attester" "$service_words" >"$work/cmdline"

log "[5/5] manifest"
files_json=$(cd "$stage" && find . -type f -print0 | sort -z | xargs -0 sha256sum |
    awk '{ printf "%s{\"path\":\"%s\",\"sha256\":\"%s\"}", (NR > 1 ? "," : ""), substr($2, 2), $1 }')
inputs_json=$(IFS=,; echo "${manifest_inputs[*]}")
digest() { sha256sum "$work/$1" | cut -d' ' -f1; }
python3 - "$work/manifest.json" <<EOF
import json, sys
manifest = {
    "format": "tessera-image-manifest/v1",
    "source_date_epoch": $SOURCE_DATE_EPOCH,
    "attester": "$attester",
    "debian_packages": [$inputs_json],
    "initramfs_files": [$files_json],
    "outputs": {
        "vmlinuz": {"sha256": "$(digest vmlinuz)"},
        "initrd.img": {"sha256": "$(digest initrd.img)"},
        "cmdline": {"sha256": "$(digest cmdline)", "text": open("$work/cmdline").read()},
    },
}
with open(sys.argv[1], "w") as f:
    json.dump(manifest, f, indent=2, sort_keys=True)
    f.write("\n")
EOF
for f in vmlinuz initrd.img cmdline manifest.json; do
    cp "$work/$f" "$out/$f.tmp" && mv "$out/$f.tmp" "$out/$f"
done
log "done: $out/{vmlinuz,initrd.img,cmdline,manifest.json} (attester $attester, kernel $kernel_pkg $kernel_version)"
log "reference value: target/release/tessera image measure --platform sev-snp --ovmf OVMF.amdsev.fd --kernel $out/vmlinuz --initrd $out/initrd.img --append-file $out/cmdline --vcpus N --vcpu-type EPYC-Milan"
