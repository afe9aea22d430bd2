// With the embedded engine: a question's search does not depend on the window of questions searched
// beside it (seeds derive from coordinates; the engine's results do not depend on batching) — the
// property that lets a resumed run equal an uninterrupted one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedEngine } from '../../src/engine/embedded.js';
import { Tokenizer } from '../../src/engine/tokenizer.js';
import { loadTemplate } from '../../src/data/templates.js';
import { DEFAULT_SEARCH, runSearch } from '../../src/search/search.js';
import { generateProblem, worldConfig } from '../../src/world/index.js';

test('search records do not depend on batch_problems or on the other questions', async () => {
  const e = EmbeddedEngine.create({ n_layer: 1, n_embd: 32, n_head: 2, n_ctx: 384 }, Tokenizer.ascii(), 5, {
    threads: 1,
  });
  try {
    const t = loadTemplate('compact');
    const world = worldConfig();
    const items = [0, 1, 2, 3, 4].map((i) => ({
      index: 300_000 + i,
      problem: generateProblem(world, 'train', 300_000 + i),
    }));
    const o = {
      ...DEFAULT_SEARCH,
      candidates: 3,
      max_step_tokens: 6,
      judge_max_tokens: 4,
      max_rollbacks: 1,
      context_tokens: 384,
    };
    const all = await runSearch(e, t, items, { ...o, batch_problems: 5 }, { seed: 2, iteration: 1 });
    const one = await runSearch(e, t, items, { ...o, batch_problems: 1 }, { seed: 2, iteration: 1 });
    assert.deepEqual(one, all);
    const alone = await runSearch(e, t, [items[3]!], o, { seed: 2, iteration: 1 });
    assert.deepEqual(alone[0], all[3]);
    // and the seed is a coordinate: another iteration samples other candidates
    const other = await runSearch(e, t, [items[3]!], o, { seed: 2, iteration: 2 });
    assert.notDeepEqual(other[0]!.rounds[0]!.candidates, all[3]!.rounds[0]!.candidates);
  } finally {
    await e.close();
  }
});
