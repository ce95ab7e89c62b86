// Test program tail: guests/build.sh appends this to a copy of
// guests/js/signer.js whose `export const run` it renames to `signerRun`,
// and builds the result into target/guests/signer-js-hold.wasm.
//
// `run` calls the signer's own `run` (unchanged: same arguments, same one-line
// JSON output), then spins so that the guest's memory stays exactly as
// signing left it until the runtime's deadline traps the guest.
// tests/tests/polyglot_memory.rs runs it with `tessera run --coredump-on-trap`
// and searches every linear memory in the dump for the private key.
export const run = {
  run() {
    signerRun.run();
    for (;;) {
      // Spin until the runtime's epoch deadline interrupts the guest.
    }
  },
};
