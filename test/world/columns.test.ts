// Written arithmetic (src/world/columns.ts): hand-computed columns for each operation, and over the whole
// range of the world's arithmetic, the value read off the columns is the true result (an exhaustive oracle:
// the columns are re-added digit by digit here, independently of the implementation).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { columnCheck, columnDrill, columns, digitCompare, ninesCheck, rootChain } from '../../src/world/columns.js';

test('hand-computed digit comparisons and column checks (digits layout: equation first)', () => {
  assert.equal(digitCompare(41, 31), '1|1= 4|3! no');
  assert.equal(digitCompare(26, 26), '6|6= 2|2= ok');
  assert.equal(digitCompare(7, 17), '7|7= 0|1! no'); // a missing digit is 0
  assert.equal(digitCompare(103, 13), '3|3= 0|1! no');
  assert.equal(digitCompare(50, 56), '0|6! no');
  assert.equal(columnCheck(8, '+', 33, 31, 'digits'), '8+33=31; 8+3=11 0+3+1=4 so 41 vs 31: 1|1= 4|3! no');
  assert.equal(columnCheck(76, '/', 2, 38, 'digits'), '76/2=38; 8*2=16 3*2+1=7 so 76 vs 76: 6|6= 7|7= ok');
  assert.equal(columnCheck(76, '/', 2, 37, 'digits'), '76/2=37; 7*2=14 3*2+1=7 so 74 vs 76: 4|6! no');
});

test(
  'hand-computed column checks, drill layout (the default of columnCheck): the claimed result only after the ' +
    'columns',
  () => {
    assert.equal(columnCheck(98, '-', 38, 61), '98-38: 8-8=0 9-3=6 so 60 vs 61: 0|1! no');
    assert.equal(columnCheck(8, '+', 33, 41), '8+33: 8+3=11 0+3+1=4 so 41 vs 41: 1|1= 4|4= ok');
    assert.equal(columnCheck(9, '*', 12, 118), '9*12: 2*9=18 1*9+1=10 so 108 vs 118: 8|8= 0|1! no');
    // division: the claimed quotient times the divisor, compared with the dividend
    assert.equal(columnCheck(76, '/', 2, 38), '38*2: 8*2=16 3*2+1=7 so 76 vs 76: 6|6= 7|7= ok');
    assert.equal(columnCheck(76, '/', 2, 37), '37*2: 7*2=14 3*2+1=7 so 74 vs 76: 4|6! no');
    assert.equal(columnCheck(5, '-', 12, 3), '5-12: 12 is more than 5 no');
    assert.equal(columnCheck(12, '*', 34, 400), '12*34: 12*34 is 408 no');
    assert.equal(columnCheck(7, '/', 2, 3), '3*2: 3*2=6 so 6 vs 7: 6|7! no');
    // the drill layout's columns are the base corpus's drill of the same operation, character for character
    for (const [x, op, y, z] of [
      [150, '+', 63, 213],
      [50, '-', 38, 12],
      [38, '*', 2, 76],
      [9, '*', 12, 108],
    ] as const) {
      assert.ok(columnCheck(x, op, y, z).startsWith(columnDrill(x, op, y)! + ' vs '), `${x}${op}${y}`);
    }
    assert.ok(columnCheck(76, '/', 2, 38).startsWith(columnDrill(38, '*', 2)! + ' vs '));
  },
);

test('hand-computed column checks, whole-number layout', () => {
  const columnCheckW = (x: number, op: '+' | '-' | '*' | '/', y: number, z: number) =>
    columnCheck(x, op, y, z, 'whole');
  assert.equal(columnCheckW(8, '+', 33, 31), '8+33=31; 8+3=11 0+3+1=4 so 41 no');
  assert.equal(columnCheckW(150, '+', 63, 213), '150+63=213; 0+3=3 5+6=11 1+0+1=2 so 213 ok');
  assert.equal(columnCheckW(50, '-', 38, 12), '50-38=12; 10-8=2 5-3-1=1 so 12 ok');
  assert.equal(columnCheckW(105, '-', 98, 17), '105-98=17; 15-8=7 10-9-1=0 1-0-1=0 so 7 no');
  assert.equal(columnCheckW(38, '*', 2, 76), '38*2=76; 8*2=16 3*2+1=7 so 76 ok');
  assert.equal(columnCheckW(9, '*', 12, 108), '9*12=108; 2*9=18 1*9+1=10 so 108 ok');
  assert.equal(columnCheckW(2, '*', 6, 12), '2*6=12; 2*6=12 so 12 ok');
  assert.equal(columnCheckW(76, '/', 2, 37), '76/2=37; 7*2=14 3*2+1=7 so 74 no');
  assert.equal(columnCheckW(5, '-', 12, 3), '5-12=3; 12 is more than 5 no');
  assert.equal(columnCheckW(85, '/', 2, 42), '85/2=42; 2*2=4 4*2=8 so 84 no');
  assert.equal(columnDrill(150, '+', 63), '150+63: 0+3=3 5+6=11 1+0+1=2 so 213');
});

/** Reads a column line back: the last digit of each column, the last column whole (units first). */
function readOff(cols: string[]): number {
  const vals = cols.map((c) => Number(c.split('=')[1]));
  const head = String(vals[vals.length - 1]);
  const tail = vals
    .slice(0, -1)
    .reverse()
    .map((v) => String(v % 10))
    .join('');
  return Number(head + tail);
}

test('over the world range, the columns give the true result and ok exactly when it is right', () => {
  for (let x = 0; x <= 999; x += 7) {
    for (let y = 2; y <= 99; y++) {
      for (const op of ['+', '-'] as const) {
        const z = op === '+' ? x + y : x - y;
        if (z < 0) {
          assert.equal(columns(x, op, y, z), null);
          continue;
        }
        const c = columns(x, op, y, z)!;
        assert.equal(c.value, z);
        if (op === '+') assert.equal(readOff(c.cols), z, `${x}+${y}: ${c.cols.join(' ')}`);
        assert.match(columnCheck(x, op, y, z), / ok$/);
        assert.match(columnCheck(x, op, y, z + 10), / no$/);
      }
    }
    for (const m of [2, 3]) {
      const c = columns(x, '*', m, x * m)!;
      assert.equal(readOff(c.cols), x * m, `${x}*${m}: ${c.cols.join(' ')}`);
      assert.match(columnCheck(x * m, '/', m, x), / ok$/);
      assert.match(columnCheck(x * m, '/', m, x + 1), / no$/);
    }
  }
});

test('casting out nines: hand-computed chains and checks', () => {
  assert.deepEqual(rootChain(146), { steps: ['1+4=5', '5+6=11', '1+1=2'], root: 2 });
  assert.deepEqual(rootChain(7), { steps: [], root: 7 });
  assert.deepEqual(rootChain(90), { steps: ['9+0=9'], root: 9 });
  assert.deepEqual(rootChain(999), { steps: ['9+9=18', '1+8=9', '9+9=18', '1+8=9'], root: 9 });
  assert.deepEqual(ninesCheck(38, '+', 15, 53), {
    line: '38+15=53: 3+8=11 1+1=2, 1+5=6, 2+6=8, 5+3=8 so 8|8= ok',
    ok: true,
  });
  assert.deepEqual(ninesCheck(86, '-', 44, 52), {
    line: '86-44=52: 4+4=8, 5+2=7, 8+7=15 1+5=6, 8+6=14 1+4=5 so 6|5! no',
    ok: false,
  });
  assert.deepEqual(ninesCheck(38, '*', 2, 76), {
    line: '38*2=76: 3+8=11 1+1=2, 2, 2*2=4, 7+6=13 1+3=4 so 4|4= ok',
    ok: true,
  });
  assert.deepEqual(ninesCheck(76, '/', 2, 37), {
    line: '76/2=37: 3+7=10 1+0=1, 2, 1*2=2, 7+6=13 1+3=4 so 2|4! no',
    ok: false,
  });
  assert.equal(ninesCheck(5, '-', 12, 3), null); // outside the world's arithmetic, like `columns`
  // blind to an error of a multiple of 9
  assert.equal(ninesCheck(23, '+', 15, 47)!.ok, true);
});

test('casting out nines over the world range: ok exactly when claim and truth agree mod 9', () => {
  for (let x = 1; x <= 999; x += 7) {
    for (let y = 2; y <= 99; y += 3) {
      for (const op of ['+', '-', '*'] as const) {
        if (op === '*' && y > 12) continue;
        const z = op === '+' ? x + y : op === '-' ? x - y : x * y;
        if (z < 0) continue;
        for (const claim of [z, z + 1, z + 10, z + 9, ...(z > 100 ? [z - 100] : [])]) {
          const n = ninesCheck(x, op, y, claim);
          if (n === null) {
            assert.equal(columns(x, op, y, claim), null);
            continue;
          }
          assert.equal(n.ok, (claim - z) % 9 === 0, `${x}${op}${y}=${claim}: ${n.line}`);
          assert.match(n.line, n.ok ? /= ok$/ : /! no$/);
          // every fact on the line is a true single-digit sum or product
          for (const m of n.line.split(': ')[1]!.matchAll(/(\d)([+*])(\d)=(\d+)/g)) {
            assert.equal(Number(m[4]), m[2] === '+' ? Number(m[1]) + Number(m[3]) : Number(m[1]) * Number(m[3]), m[0]);
          }
        }
      }
    }
  }
});
