// Progress output: plain lines off a terminal (with counts, rate and the final duration), redrawn
// single lines with a bar on a terminal, durations formatted for people, and a resumed job counted from
// where it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, Progress } from '../../src/util/progress.js';

function fakeStream(isTTY: boolean) {
  const out: string[] = [];
  return {
    out,
    stream: {
      isTTY,
      columns: 80,
      write: (s: string) => {
        out.push(s);
        return true;
      },
    } as unknown as NodeJS.WriteStream,
  };
}

test('plain mode writes whole lines with counts and the elapsed time at the end', () => {
  const { out, stream } = fakeStream(false);
  const p = new Progress('search', 3, { stream, unit: 'problems', logEvery: 1e9 });
  p.tick();
  p.tick();
  p.tick(1, 'pairs=4');
  p.finish();
  assert.equal(out.length, 1);
  assert.match(out[0]!, /^search: 3\/3 [\d.k]+ problems\/s in [\d.]+s pairs=4\n$/);
});

test('terminal mode redraws one line with a bar and ends with a newline', () => {
  const { out, stream } = fakeStream(true);
  const p = new Progress('train', 10, { stream });
  p.tick(5);
  p.finish();
  assert.ok(out.every((s) => s === '\n' || s.startsWith('\r')));
  assert.match(out.join(''), /train █+░* +\d+% /);
  assert.equal(out[out.length - 1], '\n');
});

test('durations read naturally', () => {
  assert.equal(formatDuration(5.25), '5.3s');
  assert.equal(formatDuration(75), '1m15s');
  assert.equal(formatDuration(3 * 3600 + 120), '3h02m');
  assert.equal(formatDuration(NaN), '?');
});

test('a resumed job counts from where it was', () => {
  const { out, stream } = fakeStream(false);
  const p = new Progress('pretrain M1', 2500, { stream, unit: 'steps', logEvery: 1e9 });
  p.resume(2000);
  p.tick();
  p.finish();
  assert.match(out[0]!, /^pretrain M1: 2001\/2500 [\d.k]+ steps\/s ETA /);
});
