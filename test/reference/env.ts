// Locating the repository and the reference's Python environment from a compiled test (dist/test/...):
// shared by the reference's own test and the parity tests.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root: the nearest ancestor holding package.json and reference/. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'reference'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repository root not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

export const ROOT = repoRoot();

/** The venv's python, creating the environment first when needed (scripts/python-env.mjs). */
export async function python(): Promise<string> {
  const mod = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'python-env.mjs')).href)) as {
    pythonEnv: () => Promise<{ python: string }>;
  };
  return (await mod.pythonEnv()).python;
}
