// Resolves an engine spec (from the command line or a config) to an `Engine`. Specs:
//   embedded:<checkpoint dir>   the embedded model loaded from a checkpoint directory
//   <checkpoint dir>            the same, when the directory holds a checkpoint
// Every kind of engine the project supports is listed here, so the pipeline never names a class.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EmbeddedEngine, type EmbeddedOptions } from './embedded.js';
import type { Engine } from './types.js';

export const ENGINE_KINDS = ['embedded:<checkpoint dir>'];

export async function openEngine(spec: string, opts: EmbeddedOptions = {}): Promise<Engine> {
  const m = /^([a-z][a-z0-9+-]*):(.*)$/.exec(spec);
  if (m && m[1] === 'embedded') return EmbeddedEngine.load(m[2]!, opts);
  if (!m && existsSync(path.join(spec, 'model.safetensors'))) return EmbeddedEngine.load(spec, opts);
  throw new Error(`cannot open engine '${spec}': expected one of ${ENGINE_KINDS.join(', ')}`);
}
