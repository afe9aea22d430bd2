// Compiles the AssemblyScript kernels (src/engine/kernels/) to one WebAssembly module with 128-bit SIMD,
// relaxed-SIMD fused multiply-add and shared memory (threads), written to dist/engine/kernels.wasm.
// AssemblyScript is used because it lets the hot loops be written in a TypeScript dialect with direct
// v128 intrinsics; the module has no runtime (`--runtime stub`) and never allocates: all memory is
// managed from JavaScript (src/engine/memory.ts).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const asc = path.join(path.dirname(require.resolve('assemblyscript/package.json')), 'bin', 'asc.js');
mkdirSync('dist/src/engine', { recursive: true });
execFileSync(
  process.execPath,
  [
    asc,
    'src/engine/kernels/index.ts',
    '-O3',
    '--noAssert',
    '--enable',
    'simd',
    '--enable',
    'relaxed-simd',
    '--enable',
    'threads',
    '--importMemory',
    '--sharedMemory',
    '--initialMemory',
    '64',
    '--maximumMemory',
    '65536',
    '--runtime',
    'stub',
    '-o',
    'dist/src/engine/kernels.wasm',
  ],
  { stdio: 'inherit' },
);
