import { setFlagsFromString } from 'node:v8';

// Called by ruff-engine.ts before it loads Ruff's WebAssembly module: a call, not an import for its effect,
// so the order holds in the bundled CLI too (a bundle puts the external package's import first). The flags
// are process-wide but affect only WebAssembly compiled after they are set, and Ruff is the only WebAssembly
// Code4Py loads. Measured with Ruff 0.17.4 on 2 cores (CPU of loading Ruff and a first check):
// - --liftoff-only: V8's optimising tier made checks slower (its background compilation competes for the
//   cores) and held the process open ~2 s after Ruff's last use, waiting for that compilation (a `code4py
//   validate` of one test took 12–20 s of wall time without it). The baseline compiler alone is faster here.
// - --wasm-lazy-validation: functions are validated when first compiled (lazily, on first call, which is
//   V8's default) instead of all 10 MB up front: loading the module drops from ~60 ms to ~20 ms.
export function setRuffWasmFlags(): void {
  setFlagsFromString('--liftoff-only');
  setFlagsFromString('--wasm-lazy-validation');
}
