// report.html in a real headless browser (Debian's Chromium driven by playwright-core): a fixture PSRLM
// run and SRLM baseline (the files a run writes) become one self-contained page; the browser loads it
// from file:// with every network request blocked, and the test checks that it raises no console error,
// that each chart's SVG is laid out with a real size, that the series, points and bars are the ones in
// the data, and that the legends read as they should; it saves a screenshot. Without Chromium the test
// fails and says how to install it (`.ci/run` installs it on CI).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeReport } from '../../src/run/report.js';

const CHROMIUM = process.env.PSRLM_CHROMIUM ?? '/usr/bin/chromium';

function fixtureRun(dir: string, method: 'psrlm' | 'srlm', acc: number[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ config: { method } }));
  writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({
    models: acc.map((a, i) => ({ model: `M${i + 1}`, test_accuracy: a, harder_accuracy: a / 2, judge_accuracy: 0.9, steps_per_solution: 4, step_length: 24, pairs_kept: i ? 100 * i : undefined, judge_health_of_parent: i ? 'above chance and above a majority vote' : undefined })),
  }));
  writeFileSync(path.join(dir, 'report.md'), `# ${method} <run>\n`);
  writeFileSync(path.join(dir, 'timings.json'), JSON.stringify({ baseline: { eval: 4.2 }, 'iter-1': { search: 30.5, dpo: 2.1 } }));
  writeFileSync(path.join(dir, 'engine_tokens.json'), JSON.stringify({ 'iter-1': { search: { prompt_tokens: 1000, prefill_tokens: 400, decode_tokens: 900, calls: 12 } } }));
  if (method === 'psrlm') {
    for (let t = 1; t < acc.length; t++) {
      mkdirSync(path.join(dir, `iter-${t}`), { recursive: true });
      writeFileSync(path.join(dir, `iter-${t}`, 'health.json'), JSON.stringify({
        model: `M${t}`, label: 'above chance', warnings: [],
        report: { judge_pick: 0.8, random_pick: 0.5, majority_pick: 0.6, first_position_rate: 0.5, order_flip_rate: 0.1, mixed_share: 0.3 },
      }));
    }
  }
}

test('report.html renders its charts in headless Chromium with no console errors', { timeout: 60_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: install it (Debian/Ubuntu: 'apt-get install -y chromium') or point PSRLM_CHROMIUM at a Chromium binary`);
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-report-'));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const p = path.join(dir, 'psrlm'), s = path.join(dir, 'srlm'), m0 = path.join(dir, 'm0');
    fixtureRun(p, 'psrlm', [0.3, 0.4, 0.45, 0.5]);
    fixtureRun(s, 'srlm', [0.3, 0.32, 0.33, 0.35]);
    mkdirSync(m0);
    writeFileSync(path.join(m0, 'manifest.json'), JSON.stringify({ report: { test: { accuracy: 0 }, harder: { accuracy: 0 } } }));
    const html = writeReport(p, { baseline: s, m0, out: path.join(dir, 'report.html') });
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    const requests: string[] = [];
    await page.route('**/*', (r) => { requests.push(r.request().url()); return r.request().url().startsWith('file:') ? r.continue() : r.abort(); });
    await page.goto(pathToFileURL(html).href);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests.filter((u) => !u.startsWith('file:')), [], 'the page fetches nothing');
    const charts = await page.$$eval('svg.chart', (els) => els.map((e) => {
      const b = e.getBoundingClientRect();
      return { kind: e.getAttribute('data-kind'), label: e.getAttribute('aria-label'), w: b.width, h: b.height,
        series: [...e.querySelectorAll('path.series')].map((x) => x.getAttribute('data-series')),
        points: e.querySelectorAll('circle.point').length, bars: e.querySelectorAll('rect.bar').length,
        legend: [...e.querySelectorAll('.legend')].map((x) => x.textContent) };
    }));
    assert.equal(charts.length, 4);
    for (const c of charts) assert.ok(c.w > 100 && c.h > 100, `${c.label}: ${c.w}x${c.h}`);
    // accuracy per model: M0..M4, two series
    assert.deepEqual(charts[0]!.series, ['test', 'harder-test']);
    assert.equal(charts[0]!.points, 10);
    // PSRLM vs SRLM: two series of five points
    assert.deepEqual(charts[1]!.legend, ['PSRLM', 'SRLM']);
    assert.equal(charts[1]!.points, 10);
    // judge health: three bars for each of the three iterations
    assert.deepEqual(charts[2]!.legend, ['judge pick right', 'random pick right', 'majority vote right']);
    assert.equal(charts[2]!.bars, 9);
    assert.equal(charts[3]!.bars, 9);
    assert.match(await page.textContent('body') ?? '', /Wall time and engine tokens per stage/);
    await page.screenshot({ path: path.join(dir, 'report.png'), fullPage: true });
    assert.ok(existsSync(path.join(dir, 'report.png')));

    // without a baseline the comparison panel says so instead of drawing anything
    const single = writeReport(p, { out: path.join(dir, 'single.html') });
    await page.goto(pathToFileURL(single).href);
    const empty = await page.$$eval('svg.chart[data-kind="empty"]', (els) => els.map((e) => e.textContent ?? ''));
    assert.equal(empty.length, 1);
    assert.match(empty[0]!, /baseline was not run/);
  } finally {
    await browser.close();
    if (!process.env.PSRLM_KEEP_REPORT) rmSync(dir, { recursive: true, force: true });
  }
});
