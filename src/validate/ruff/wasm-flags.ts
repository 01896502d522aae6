import { setFlagsFromString } from 'node:v8';

// Imported for its effect, before Ruff's WebAssembly module is loaded (ruff-engine.ts imports it first).
// The flags are process-wide but affect only WebAssembly compiled after this point, and Ruff is the only
// WebAssembly Code4Py loads. Measured with Ruff 0.17.4 on 2 cores (CPU of loading Ruff and a first check):
// - --liftoff-only: V8's optimising tier made checks slower (its background compilation competes for the
//   cores) and held the process open ~2 s after Ruff's last use, waiting for that compilation (a `code4py
//   validate` of one test took 12–20 s of wall time without it). The baseline compiler alone is faster here.
// - --wasm-lazy-validation: functions are validated when first compiled (lazily, on first call, which is
//   V8's default) instead of all 10 MB up front: loading the module drops from ~60 ms to ~20 ms.
setFlagsFromString('--liftoff-only');
setFlagsFromString('--wasm-lazy-validation');
