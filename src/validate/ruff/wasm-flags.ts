import { setFlagsFromString } from 'node:v8';

// Imported for its effect, before Ruff's WebAssembly module is loaded (ruff-engine.ts imports it first).
// Measured with Ruff 0.17.4 on 2 cores: V8's optimising tier for WebAssembly made checks slower (its
// background compilation competes for the cores) and held the process open ~2 s after Ruff's last use,
// waiting for that compilation. The baseline compiler alone is faster here. The flag is process-wide but
// affects only WebAssembly compiled after this point, and Ruff is the only WebAssembly Code4Py loads.
setFlagsFromString('--liftoff-only');
