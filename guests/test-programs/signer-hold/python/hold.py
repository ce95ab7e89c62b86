"""Test program: the Python signer, held at its last step until the runtime stops it.

guests/build.sh builds this into target/guests/signer-py-hold.wasm, with
guests/python on the Python path. `Run.run` calls the signer's own `main`
(app.py, unchanged: same arguments, same one-line JSON output). The signer's
last step is `sys.stdout.flush()` after printing; here that flush spins, so the
guest is stopped by the runtime's deadline inside `main`, with everything of
the signing still alive: the key handle open, the public key and signature the
host returned, the output. tests/tests/polyglot_memory.rs runs it with
`tessera run --coredump-on-trap` and searches every linear memory in the dump
for the private key.
"""

import sys

import app
from wit_world import exports


class _HoldOnFlush:
    """sys.stdout, except that flushing it flushes and then spins forever."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(text)

    def flush(self):
        self._stream.flush()
        while True:
            pass


class Run(exports.Run):
    def run(self) -> None:
        sys.stdout = _HoldOnFlush(sys.stdout)
        app.main()
