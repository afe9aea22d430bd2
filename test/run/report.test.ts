// report.html in a real headless browser (Debian's Chromium driven by playwright-core): a fixture PSRLM
// run and SRLM baseline (the JSON files a run writes, in their real shapes) become one self-contained
// page; the browser loads it from file:// with every other request blocked, and the test checks that it
// raises no console error, fetches nothing, that each chart's SVG is laid out with a real size, that the
// series, points, bars and their values are the ones in the data, that the legends read as they should,
// that no two value labels overlap, and that the tables hold the run's figures; it saves a screenshot
// (kept with PSRLM_KEEP_REPORT=1). `npm test` installs Chromium first where it can (scripts/chromium.mjs)
// and points PSRLM_CHROMIUM at it; without Chromium the test fails and says how to install it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeReport } from '../../src/run/report.js';

const CHROMIUM = process.env.PSRLM_CHROMIUM ?? '/usr/bin/chromium';
const j = (f: string, v: unknown) => writeFileSync(f, JSON.stringify(v));

function fixtureRun(dir: string, method: 'psrlm' | 'srlm', acc: number[]): void {
  mkdirSync(dir, { recursive: true });
  j(path.join(dir, 'manifest.json'), { format: 'psrlm-run', version: 2, config: { method } });
  j(path.join(dir, 'summary.json'), {
    models: acc.map((a, i) => ({
      model: `M${i + 1}`,
      test_accuracy: a,
      harder_accuracy: a / 2,
      judge_accuracy: method === 'srlm' ? 0.7 : [0.85, 0.86, 0.87, 0.88][i],
      steps_per_solution: 4,
      step_length: 24.5,
      ...(i
        ? {
            pairs_kept: 100 * i,
            judge_health_of_parent: 'above chance and above a majority vote',
            ...(method === 'psrlm' ? { chosen_step_verifier_agreement: 0.9 } : {}),
          }
        : {}),
    })),
  });
  j(path.join(dir, 'timings.json'), { baseline: { eval: 4.2 }, 'iter-1': { search: 30.5, dpo: 2.1 } });
  j(path.join(dir, 'engine_tokens.json'), {
    'iter-1': { search: { prompt_tokens: 1000, prefill_tokens: 400, decode_tokens: 900, calls: 12 } },
  });
  writeFileSync(path.join(dir, 'report.md'), `# ${method} run <M1 → M${acc.length}>\n`);
  for (let t = 1; t < acc.length; t++) {
    const d = path.join(dir, `iter-${t}`);
    mkdirSync(d, { recursive: true });
    if (method === 'psrlm') {
      j(path.join(d, 'health.json'), {
        model: `M${t}`,
        label: 'above chance and above a majority vote',
        warnings: [],
        report: {
          prefixes: 40,
          mixed_share: 0.3,
          judge_pick: 0.8,
          random_pick: 0.5,
          majority_pick: 0.6,
          candidate_accuracy: 0.55,
          first_position_rate: [0.6, 0.7, 0.8][t - 1],
          order_flip_rate: 0.4,
          decisive_order_flip_rate: 0.1,
          parse_failure_rate: 0,
          tie_rate: 0.2,
        },
      });
      j(path.join(d, 'search.json'), {
        questions: 20,
        outcomes: { final: 15, gave_up: 5 },
        rounds: 94,
        rollbacks: 7,
        judge_prompts: 818,
        judge_prompts_saved: 202,
        first_position_rate: 0.6,
        parse_failure_rate: 0,
        pairs_found: 100 * t,
        mean_steps: 3.5,
        mean_steps_finished: 4,
        measure: { chosen_ok: 0.9, candidate_ok: 0.6, mixed_rounds: 44, mixed_chosen_ok: 0.75, mixed_random_ok: 0.5 },
      });
    } else {
      j(path.join(d, 'sample.json'), {
        questions: 20,
        solutions: 80,
        parse_failure_rate: 0.05,
        mean_score: 3.2,
        measure: {
          solution_ok: 0.4,
          mixed_questions: 9,
          best_ok: [0.55, 0.5, 0.45][t - 1],
          random_ok: 0.4,
          majority_ok: 0.5,
        },
      });
      j(path.join(d, 'pairs.json'), {
        stats: { questions: 20, found: 15, kept: 12, ties: 3, unscored: 5, same_sides: 0 },
      });
    }
  }
}

interface ChartInfo {
  kind: string | null;
  label: string | null;
  w: number;
  h: number;
  titleW: number;
  series: Array<string | null>;
  points: Record<string, number[]>;
  bars: Record<string, number[]>;
  legend: Array<string | null>;
  refs: number;
  refLegend: Array<string | null>;
  overlaps: string[];
  text: string;
}

test('report.html renders its charts in headless Chromium with no console errors', { timeout: 20_000 }, async () => {
  assert.ok(
    existsSync(CHROMIUM),
    `Chromium not found at ${CHROMIUM}: run 'node scripts/chromium.mjs' (npm test ` +
      "does; it installs Debian's chromium where it may, or says how) or point PSRLM_CHROMIUM at a Chromium binary",
  );
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-report-'));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const p = path.join(dir, 'psrlm'),
      s = path.join(dir, 'srlm'),
      m0 = path.join(dir, 'm0');
    fixtureRun(p, 'psrlm', [0.3, 0.4, 0.45, 0.5]);
    fixtureRun(s, 'srlm', [0.3, 0.32, 0.33, 0.35]);
    mkdirSync(m0);
    j(path.join(m0, 'manifest.json'), { report: { test: { accuracy: 0.01 }, harder: { accuracy: 0 } } });
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    const requests: string[] = [];
    await page.route('**/*', (r) => {
      requests.push(r.request().url());
      return r.request().url().startsWith('file:') ? r.continue() : r.abort();
    });
    const open = async (file: string): Promise<ChartInfo[]> => {
      await page.goto(pathToFileURL(file).href);
      return page.$$eval('svg.chart', (els) =>
        els.map((e) => {
          const b = e.getBoundingClientRect();
          const byS = (sel: string) => {
            const out: Record<string, number[]> = {};
            for (const x of e.querySelectorAll(sel))
              (out[x.getAttribute('data-series') ?? ''] ??= []).push(Number(x.getAttribute('data-value')));
            return out;
          };
          // every value label against every other text of the chart (values, ticks, legend, reference labels)
          const boxes = [...e.querySelectorAll('text')].map((t) => ({
            t: t.textContent ?? '',
            value: t.classList.contains('value'),
            r: t.getBoundingClientRect(),
          }));
          const overlaps: string[] = [];
          for (let i = 0; i < boxes.length; i++) {
            for (let k = i + 1; k < boxes.length; k++) {
              if (!boxes[i]!.value && !boxes[k]!.value) continue;
              const a = boxes[i]!.r,
                c = boxes[k]!.r;
              if (a.left < c.right && c.left < a.right && a.top < c.bottom && c.top < a.bottom)
                overlaps.push(`${boxes[i]!.t} / ${boxes[k]!.t}`);
            }
          }
          return {
            kind: e.getAttribute('data-kind'),
            label: e.getAttribute('aria-label'),
            w: b.width,
            h: b.height,
            titleW: e.querySelector('text.chart-title')?.getBoundingClientRect().width ?? 0,
            series: [...e.querySelectorAll('path.series')].map((x) => x.getAttribute('data-series')),
            points: byS('circle.point'),
            bars: byS('rect.bar'),
            legend: [...e.querySelectorAll('.legend')].map((x) => x.textContent),
            refs: e.querySelectorAll('line.ref').length,
            refLegend: [...e.querySelectorAll('.ref-item text')].map((x) => x.textContent),
            overlaps,
            text: e.textContent ?? '',
          };
        }),
      );
    };

    const charts = await open(writeReport(p, { baseline: s, m0, out: path.join(dir, 'report.html') }));
    assert.deepEqual(errors, []);
    assert.deepEqual(
      requests.filter((u) => !u.startsWith('file:')),
      [],
      'the page fetches nothing',
    );
    assert.deepEqual(
      charts.map((c) => c.kind),
      ['line', 'line', 'bar', 'bar'],
    );
    for (const c of charts) {
      assert.ok(c.w > 300 && c.h > 150, `${c.label}: laid out at ${c.w}x${c.h}`);
      assert.ok(
        c.titleW > 100,
        `${c.label}: its title is ${c.titleW}px wide: no font renders (Debian: apt-get install fonts-dejavu-core)`,
      );
      assert.deepEqual(c.overlaps, [], `${c.label}: value labels overlap`);
    }
    // accuracy per model: M0..M4, test and harder-test
    assert.deepEqual(charts[0]!.series, ['test', 'harder-test']);
    assert.deepEqual(charts[0]!.legend, ['test', 'harder-test']);
    assert.deepEqual(charts[0]!.points, {
      test: [0.01, 0.3, 0.4, 0.45, 0.5],
      'harder-test': [0, 0.15, 0.2, 0.225, 0.25],
    });
    // PSRLM vs SRLM per iteration, both from M0
    assert.deepEqual(charts[1]!.legend, ['PSRLM', 'SRLM']);
    assert.deepEqual(charts[1]!.points, { PSRLM: [0.01, 0.3, 0.4, 0.45, 0.5], SRLM: [0.01, 0.3, 0.32, 0.33, 0.35] });
    // judge health: judge vs random vs majority before each of the three iterations
    assert.deepEqual(charts[2]!.legend, ['judge pick right', 'random pick right', 'majority vote right']);
    assert.deepEqual(charts[2]!.bars, {
      'judge pick right': [0.8, 0.8, 0.8],
      'random pick right': [0.5, 0.5, 0.5],
      'majority vote right': [0.6, 0.6, 0.6],
    });
    assert.match(charts[2]!.text, /M1.*M2.*M3/s);
    // biases and held-out judge accuracy of M_t, with the no-position-bias line
    assert.deepEqual(charts[3]!.legend, [
      'first-position wins',
      'order flips (right vs wrong)',
      'held-out judge accuracy (EFT)',
    ]);
    assert.deepEqual(charts[3]!.bars, {
      'first-position wins': [0.6, 0.7, 0.8],
      'order flips (right vs wrong)': [0.1, 0.1, 0.1],
      'held-out judge accuracy (EFT)': [0.85, 0.86, 0.87],
    });
    assert.equal(charts[3]!.refs, 1);
    assert.deepEqual(charts[3]!.refLegend, ['50%: no position bias']);
    // the tables: models of both runs, searches, sampling, wall time and tokens per stage with totals
    const tables = await page.$$eval('table', (ts) =>
      ts.map((t) =>
        [...t.querySelectorAll('tr')].map((r) => [...r.querySelectorAll('th,td')].map((c) => c.textContent ?? '')),
      ),
    );
    assert.equal(tables.length, 6);
    assert.deepEqual(tables[0]![4], [
      'M4',
      '50.0%',
      '25.0%',
      '88.0%',
      '4.00',
      '24.50',
      '300',
      '90.0%',
      'above chance and above a majority vote',
    ]);
    assert.deepEqual(tables[1]![1], [
      '1',
      '20',
      'final 15, gave_up 5',
      '94',
      '7',
      '818',
      '202',
      '100',
      '75.0% vs 50.0% (44)',
    ]);
    assert.deepEqual(tables[2]![0], [
      'where',
      'stage',
      'wall s',
      'prompt tokens',
      'prefilled',
      'decoded',
      'model calls',
    ]);
    assert.deepEqual(tables[2]!.at(-1), ['total', '', '36.8', '1000', '400', '900', '12']);
    assert.equal(tables[3]![0]![3], 'scorer acc');
    assert.deepEqual(tables[4]![1], [
      '1',
      '20',
      '80',
      '3.20',
      '5.0%',
      '12 (3 ties dropped)',
      '55.0% vs 40.0% vs 50.0% (9)',
    ]);
    const body = (await page.textContent('body')) ?? '';
    assert.match(body, /Wall time and engine tokens per stage/);
    assert.match(body, /M0 is the pretrained base model/);
    const shot = path.join(dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000, 'the screenshot holds a rendered page');

    // without a baseline the comparison panel says so instead of drawing anything
    const single = await open(writeReport(p, { out: path.join(dir, 'single.html') }));
    assert.deepEqual(
      single.map((c) => c.kind),
      ['line', 'empty', 'bar', 'bar'],
    );
    assert.match(single[1]!.text, /SRLM baseline was not run/);
    assert.deepEqual(single[1]!.points, {});
    assert.deepEqual(single[0]!.points.test, [0.3, 0.4, 0.45, 0.5], 'no M0 when none is given');

    // the report an SRLM run writes for itself: the scorer's health in place of the step judge's
    const srlm = await open(writeReport(s));
    assert.deepEqual(
      srlm.map((c) => c.kind),
      ['line', 'empty', 'bar', 'bar'],
    );
    assert.match(srlm[1]!.text, /PSRLM baseline was not run/);
    assert.deepEqual(srlm[2]!.legend, ['top-scored right', 'random pick right', 'majority vote right']);
    assert.deepEqual(srlm[2]!.bars['top-scored right'], [0.55, 0.5, 0.45]);
    assert.deepEqual(srlm[3]!.bars, { 'held-out scorer accuracy': [0.7, 0.7, 0.7] });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    if (!process.env.PSRLM_KEEP_REPORT) rmSync(dir, { recursive: true, force: true });
  }
});

test('report without a summary.json says what the directory should be', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-report-'));
  try {
    assert.throws(() => writeReport(dir), /holds no summary\.json.*finished run directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
