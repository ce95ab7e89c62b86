#!/usr/bin/env bash
# Set up a fresh machine and run the main job on the embedded default: the
# simulated attester (platform `sim`, no hardware protection).
#
# State (sealed keys, the simulated roots) goes to $TESSERA_STATE_DIR, by
# default target/demo-state, so repeated runs show the same keys.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
scripts/setup.sh

export TESSERA_STATE_DIR=${TESSERA_STATE_DIR:-$ROOT/target/demo-state}
tessera=target/release/tessera
step() { printf '\n== %s\n' "$*"; }

step "measure: what the signer workload is"
$tessera measure target/guests/signer.wasm --json

step "run: the workload reads its identity"
$tessera run --attester sim target/guests/hello-identity.wasm

step "run: sign with a host-held key (Ed25519, then ECDSA P-256)"
$tessera run --attester sim target/guests/signer.wasm -- "hello from tessera"
$tessera run --attester sim target/guests/signer.wasm -- --alg ecdsa-p256 "hello from tessera"

step "attest: evidence bound to a nonce and the workload's key, then verified"
nonce=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
out=$($tessera run --attester sim target/guests/hello-identity.wasm -- --nonce "$nonce")
echo "$out"
evidence=$(mktemp)
trap 'rm -f "$evidence"' EXIT
python3 -c 'import json,sys; print(json.loads(sys.argv[1])["evidence_b64"])' "$out" >"$evidence"
report_data=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["report_data_hex"])' "$out")
$tessera evidence verify "$evidence" --policy dev --report-data "$report_data" --json
step "the production policy refuses simulated evidence (exit 1 expected)"
$tessera evidence verify "$evidence" --policy production --json || echo "exit $? (rejected, as it must be)"

step "credentials: X.509-SVID, JWT-SVID and the trust bundle; the CA's evidence verified offline"
creds=$($tessera run --attester sim target/guests/credentials.wasm -- https://sts.example.com)
bundle=$(mktemp)
svid=$(mktemp)
trap 'rm -f "$evidence" "$bundle" "$svid"' EXIT
python3 -c 'import json,sys; print(json.loads(sys.argv[1])["bundle_pem"], end="")' "$creds" >"$bundle"
python3 -c 'import json,sys; print(json.loads(sys.argv[1])["svid_chain_pem"], end="")' "$creds" >"$svid"
python3 -c 'import json,sys; print("JWT-SVID:", json.loads(sys.argv[1])["jwt"][:60] + "…")' "$creds"
openssl x509 -in "$svid" -noout -subject -ext subjectAltName
openssl verify -CAfile "$bundle" "$svid"
$tessera evidence verify "$bundle" --policy dev
