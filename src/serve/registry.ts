// Resolves an engine spec (from the command line or a config) to an `Engine`. Specs:
//   embedded:<checkpoint dir>        the embedded model loaded from a checkpoint directory
//   <checkpoint dir>                 the same, when the directory holds a checkpoint
//   openai:<url>[,<url>...][?opts]   OpenAI-compatible servers (vLLM, SGLang, llama.cpp, Ollama, psrlm serve);
//                                    options in src/serve/spec.ts and docs/serving.md
// Every kind of engine the project supports is listed here, so the pipeline never names a class. The
// remote engine is loaded only when asked for, so the embedded path does not pay for it.
// It sits in serve/ rather than engine/ because it names the remote engine too, and engine/ imports nothing
// above itself (test/layers.test.ts).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EmbeddedEngine, type EmbeddedOptions } from '../engine/embedded.js';
import type { Engine } from '../engine/types.js';

export const ENGINE_KINDS = ['embedded:<checkpoint dir>', 'openai:<base url>[,<base url>...][?model=NAME&...]'];

export async function openEngine(spec: string, opts: EmbeddedOptions = {}): Promise<Engine> {
  const m = /^([a-z][a-z0-9+-]*):(.*)$/.exec(spec);
  if (m && m[1] === 'embedded') return EmbeddedEngine.load(m[2]!, opts);
  if (m && m[1] === 'openai') {
    const { RemoteEngine } = await import('./remote.js');
    return RemoteEngine.open(spec);
  }
  if (!m && existsSync(path.join(spec, 'model.safetensors'))) return EmbeddedEngine.load(spec, opts);
  throw new Error(`cannot open engine '${spec}': expected one of ${ENGINE_KINDS.join(', ')}`);
}
