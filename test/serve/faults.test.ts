// A pipeline through a fault-injecting proxy: the remote engine talks to psrlm serve through a proxy that
// answers 500 and 429, stalls past the client's deadline, drops connections before and after the server
// did the work, cuts answers in half and sends truncated JSON. The run is also killed halfway and resumed
// from its records and its call cache. It must finish with every record present once, equal to the
// embedded engine's fault-free run, and the resumed half must not send any call the first half paid for.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { deriveSeed } from '../../src/engine/rng.js';
import type { Engine } from '../../src/engine/types.js';
import { callKey } from '../../src/serve/cache.js';
import { RemoteEngine } from '../../src/serve/remote.js';
import { startFaultProxy, startFixture, type Fault, type Fixture } from './helpers.js';

let fx: Fixture;
let tmp: string;

before(async () => {
  fx = await startFixture();
  tmp = mkdtempSync(path.join(tmpdir(), 'psrlm-faults-'));
});

after(async () => {
  await fx.close();
  rmSync(tmp, { recursive: true, force: true });
});

interface Rec {
  id: number;
  texts: string[];
  finish: string[];
  logprobs: number[][];
  scores: number[];
}

const ITEMS = Array.from({ length: 14 }, (_, id) => ({ id, prompt: `Problem ${id}: ${id} * 3 = ?\nStep 1:` }));

class Crash extends Error {}

/**
 * A miniature of the real loop: per item, sample candidate steps, score each, append one record. Resumes
 * from the records already written; `crashAfter` kills the run (no more records) after that many.
 */
async function pipeline(engine: Engine, out: string, crashAfter = Infinity): Promise<void> {
  const done = new Set(
    existsSync(out)
      ? readFileSync(out, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as Rec).id)
      : [],
  );
  const todo = ITEMS.filter((it) => !done.has(it.id));
  let written = 0;
  let dead = false;
  const worker = async () => {
    for (let it = todo.shift(); it && !dead; it = todo.shift()) {
      const [cands] = await engine.generate([it.prompt], {
        n: 3,
        temperature: 1,
        top_p: 0.95,
        max_tokens: 16,
        stop: ['\n'],
        seeds: [deriveSeed(7, it.id)],
      });
      const scores = await engine.logprob(
        cands!.map((c) => ({ prompt: it.prompt, completion: c.text + ';', eos: c.finish_reason === 'eos' })),
      );
      if (dead) return;
      appendFileSync(
        out,
        JSON.stringify({
          id: it.id,
          texts: cands!.map((c) => c.text),
          finish: cands!.map((c) => c.finish_reason),
          logprobs: cands!.map((c) => c.logprobs),
          scores,
        } satisfies Rec) + '\n',
      );
      if (++written >= crashAfter) {
        dead = true;
        throw new Crash(`killed after ${written} records`);
      }
    }
  };
  await Promise.all([worker(), worker(), worker()]);
}

const records = (file: string): Rec[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Rec);

test(
  'a resumed pipeline through 5xx, 429, stalls, resets, cut answers and bad JSON loses and duplicates ' + 'nothing',
  async () => {
    // the reference: the embedded engine itself, no server, no faults
    const ref = EmbeddedEngine.load(fx.ckpt, { threads: 1 });
    const refOut = path.join(tmp, 'ref.jsonl');
    try {
      await pipeline(ref, refOut);
    } finally {
      await ref.close();
    }
    const want = new Map(records(refOut).map((r) => [r.id, r]));
    assert.equal(want.size, ITEMS.length);

    // faults on a fixed schedule of POSTs; two stalls cost one client deadline (0.8 s) each
    const cycle: Fault[] = [
      'ok',
      'error500',
      'ok',
      'cut',
      'malformed',
      'ok',
      'reset',
      'error429',
      'ok',
      'late502',
      'ok',
      'malformed',
    ];
    const proxy = await startFaultProxy(fx.server.url.replace('/v1', ''), (n) =>
      n === 7 || n === 40 ? 'stall' : cycle[n % cycle.length]!,
    );
    const cache = path.join(tmp, 'calls.jsonl');
    const out = path.join(tmp, 'run.jsonl');
    const spec =
      `openai:${proxy.url}?concurrency=3&timeout=0.8&retries=12&backoff=0.005&max_backoff=0.05&cache=` +
      `${encodeURIComponent(cache)}`;
    try {
      const first = await RemoteEngine.open(spec);
      await assert.rejects(pipeline(first, out, 5), Crash);
      await first.close(); // calls still in flight land in the cache, as they would have before a real crash
      assert.equal(records(out).length, 5);

      const cachedKeys = new Set(
        readFileSync(cache, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => l.slice(0, 64)),
      );
      const logFrom = proxy.log.length;
      const second = await RemoteEngine.open(spec);
      await pipeline(second, out);
      await second.close();

      // nothing lost, nothing duplicated, everything equal to the fault-free embedded run
      const got = records(out);
      assert.equal(got.length, ITEMS.length);
      assert.deepEqual(
        got.map((r) => r.id).sort((a, b) => a - b),
        ITEMS.map((it) => it.id),
      );
      for (const r of got) assert.deepEqual(r, want.get(r.id), `record ${r.id}`);

      // the resumed run never re-sent a call the first run had paid for, and no call was stored twice
      const resent = proxy.log
        .slice(logFrom)
        .filter((e) => e.forwarded && cachedKeys.has(callKey('/completions', e.body)));
      assert.deepEqual(resent, []);
      assert.ok(second.stats.cache_hits > 0, 'the resumed run used the cache');
      const keys = readFileSync(cache, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.slice(0, 64));
      assert.equal(new Set(keys).size, keys.length);
      // every kind of fault really happened
      for (const f of ['error500', 'error429', 'stall', 'reset', 'cut', 'malformed', 'late502'] as const)
        assert.ok(proxy.counts[f] > 0, `${f}: ${JSON.stringify(proxy.counts)}`);
      assert.ok(first.stats.retries + second.stats.retries >= 10);
    } finally {
      await proxy.close();
    }
  },
);
