// Resumable JSONL files (src/util/resumable-jsonl.ts): a torn last line is cut off the file so the next
// append starts a line of its own; a damaged complete line is an error that names the file and line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { appendJsonl, readResumableJsonl } from '../../src/util/resumable-jsonl.js';

test('a resumed JSONL file: missing is empty, a torn last line is cut off, appends stay one object per line', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-jsonl-'));
  try {
    const file = path.join(dir, 'records.jsonl');
    assert.deepEqual(readResumableJsonl(file), []);
    appendJsonl(file, [{ id: 1 }, { id: 2, text: 'é' }]);
    appendJsonl(file, []);
    writeFileSync(file, readFileSync(file, 'utf8') + '{"id": 3, "te'); // a kill mid-append
    assert.deepEqual(readResumableJsonl(file), [{ id: 1 }, { id: 2, text: 'é' }]);
    assert.equal(readFileSync(file, 'utf8'), '{"id":1}\n{"id":2,"text":"é"}\n', 'the torn line is gone from the file');
    appendJsonl(file, [{ id: 3 }]);
    assert.deepEqual(
      readResumableJsonl<{ id: number }>(file).map((r) => r.id),
      [1, 2, 3],
    );
    writeFileSync(file, '{"id":1}\nnot json\n{"id":3}\n');
    assert.throws(() => readResumableJsonl(file), /records\.jsonl line 2 is not JSON .*remove or repair that line/);
    assert.equal(readFileSync(file, 'utf8'), '{"id":1}\nnot json\n{"id":3}\n', 'a damaged file is left as it was');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
