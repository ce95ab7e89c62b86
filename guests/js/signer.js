// `signer [--alg ed25519|ecdsa-p256] MESSAGE`: signs MESSAGE with the host-held key `default`.
//
// The JavaScript twin of guests/examples/signer (Rust): prints one JSON line with
// the algorithm, the message, the public key (PEM) and the signature (standard
// base64). Exit status: 0 on success, 1 if a host call failed, 2 on bad arguments.

import { getArguments } from 'wasi:cli/environment@0.2.12';
import { exitWithCode } from 'wasi:cli/exit@0.2.12';
import { SigningKey } from 'tessera:workload/signing@0.1.0';

const USAGE = 'usage: signer [--alg ed25519|ecdsa-p256] MESSAGE';
const ALGORITHMS = ['ed25519', 'ecdsa-p256'];

class UsageError extends Error {}

function parseArgs(args) {
  let algorithm = null;
  const positional = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    let value;
    if (arg === '--alg') {
      if (i + 1 >= args.length) throw new UsageError('--alg needs a value');
      value = args[++i];
    } else if (arg.startsWith('--alg=')) {
      value = arg.slice('--alg='.length);
    } else if (arg === '--') {
      positional.push(...args.slice(i + 1));
      break;
    } else if (arg.startsWith('--')) {
      throw new UsageError(`unknown option \`${arg}\``);
    } else {
      positional.push(arg);
      continue;
    }
    if (!ALGORITHMS.includes(value)) {
      throw new UsageError(`unknown algorithm \`${value}\` (expected ed25519 or ecdsa-p256)`);
    }
    if (algorithm !== null) throw new UsageError('--alg given more than once');
    algorithm = value;
  }
  if (positional.length === 0) throw new UsageError('missing MESSAGE');
  if (positional.length > 1) {
    throw new UsageError(`expected one MESSAGE, got ${positional.length} arguments`);
  }
  return { algorithm: algorithm ?? 'ed25519', message: positional[0] };
}

function base64(bytes) {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function spkiDerToPem(der) {
  const b64 = base64(der);
  let pem = '-----BEGIN PUBLIC KEY-----\n';
  for (let i = 0; i < b64.length; i += 64) pem += b64.slice(i, i + 64) + '\n';
  return pem + '-----END PUBLIC KEY-----\n';
}

// A host `error` variant arrives as a thrown value whose payload is `{ tag, val }`.
function describe(err) {
  const e = err && err.payload !== undefined ? err.payload : err;
  if (e && typeof e === 'object' && 'tag' in e) return `${e.tag}: ${e.val}`;
  return String(e);
}

function main() {
  let args;
  try {
    args = parseArgs(getArguments().slice(1));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`signer: ${err.message}\n${USAGE}`);
    exitWithCode(2);
  }
  let output;
  try {
    const key = SigningKey.open('default', args.algorithm);
    const signature = key.sign(new TextEncoder().encode(args.message));
    output = {
      algorithm: args.algorithm,
      message: args.message,
      public_key_pem: spkiDerToPem(key.publicKey()),
      signature_b64: base64(signature),
    };
  } catch (err) {
    console.error(`signer: ${describe(err)}`);
    exitWithCode(1);
  }
  console.log(JSON.stringify(output));
}

export const run = {
  run() {
    main();
  },
};
