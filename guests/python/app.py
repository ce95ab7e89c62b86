"""`signer [--alg ed25519|ecdsa-p256] MESSAGE`: signs MESSAGE with the host-held key `default`.

The Python twin of guests/examples/signer (Rust): prints one JSON line with the
algorithm, the message, the public key (PEM) and the signature (standard
base64). Exit status: 0 on success, 1 if a host call failed, 2 on bad arguments.
"""

import base64
import json
import sys

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import environment, exit as wasi_exit
from wit_world.imports.signing import Algorithm, SigningKey

USAGE = "usage: signer [--alg ed25519|ecdsa-p256] MESSAGE"
ALGORITHMS = {"ed25519": Algorithm.ED25519, "ecdsa-p256": Algorithm.ECDSA_P256}


class UsageError(Exception):
    pass


def parse_args(args: list[str]) -> tuple[str, str]:
    algorithm = None
    positional: list[str] = []
    it = iter(args)
    for arg in it:
        if arg == "--alg":
            value = next(it, None)
            if value is None:
                raise UsageError("--alg needs a value")
        elif arg.startswith("--alg="):
            value = arg[len("--alg="):]
        elif arg == "--":
            positional.extend(it)
            break
        elif arg.startswith("--"):
            raise UsageError(f"unknown option `{arg}`")
        else:
            positional.append(arg)
            continue
        if value not in ALGORITHMS:
            raise UsageError(f"unknown algorithm `{value}` (expected ed25519 or ecdsa-p256)")
        if algorithm is not None:
            raise UsageError("--alg given more than once")
        algorithm = value
    if not positional:
        raise UsageError("missing MESSAGE")
    if len(positional) > 1:
        raise UsageError(f"expected one MESSAGE, got {len(positional)} arguments")
    return algorithm or "ed25519", positional[0]


def spki_der_to_pem(der: bytes) -> str:
    lines = [base64.b64encode(der[i:i + 48]).decode() for i in range(0, len(der), 48)]
    return "-----BEGIN PUBLIC KEY-----\n" + "".join(l + "\n" for l in lines) + "-----END PUBLIC KEY-----\n"


def describe(err: Err) -> str:
    # err.value is one of the `error` variant's cases, e.g. Error_Denied("...").
    case = err.value
    kind = type(case).__name__.removeprefix("Error_")
    return f"{kind}: {getattr(case, 'value', case)}"


def exit_with(code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    wasi_exit.exit_with_code(code)


def main() -> None:
    try:
        alg, message = parse_args(environment.get_arguments()[1:])
    except UsageError as e:
        print(f"signer: {e}\n{USAGE}", file=sys.stderr)
        exit_with(2)
        return
    try:
        key = SigningKey.open("default", ALGORITHMS[alg])
        signature = key.sign(message.encode("utf-8"))
        output = {
            "algorithm": alg,
            "message": message,
            "public_key_pem": spki_der_to_pem(key.public_key()),
            "signature_b64": base64.b64encode(signature).decode(),
        }
    except Err as e:
        print(f"signer: {describe(e)}", file=sys.stderr)
        exit_with(1)
        return
    # Compact and non-ASCII kept as is, like the Rust signer's serde_json.
    print(json.dumps(output, separators=(",", ":"), ensure_ascii=False))
    sys.stdout.flush()


class Run(exports.Run):
    def run(self) -> None:
        main()
