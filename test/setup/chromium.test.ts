// scripts/chromium.mjs, which `npm test` runs before the tests: it finds Chromium, installs it with apt-get
// when it is missing and the user may, and otherwise names the command to run. Each case runs against a
// PATH of fake programs (chromium, apt-get, sudo, dpkg-query as small shell scripts) in a temporary
// folder, so the real machine is neither searched nor changed; the fake apt-get records its arguments
// and "installs" by writing a fake chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../reference/env.js';

interface Options {
  env?: NodeJS.ProcessEnv;
  uid?: number;
  log?: (s: string) => void;
}
const SCRIPT = pathToFileURL(path.join(ROOT, 'scripts', 'chromium.mjs')).href;
const { ensureChromium, findChromium } = (await import(SCRIPT)) as {
  ensureChromium: (o?: Options) => string;
  findChromium: (env?: NodeJS.ProcessEnv) => string | undefined;
};

/** A folder `bin` holding the named fake programs; returns it with helpers to read what apt-get was asked. */
function fakeMachine(programs: Record<string, string>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'psrlm-chromium-'));
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const script = (name: string, body: string) => {
    writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };
  for (const [name, body] of Object.entries(programs)) script(name, body);
  const calls = path.join(dir, 'calls');
  return {
    dir,
    bin,
    env: { PATH: bin, FAKE_BIN: bin, FAKE_CALLS: calls } as NodeJS.ProcessEnv,
    calls: () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : []),
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// apt-get: records its arguments; `install` with chromium among them writes an executable fake chromium.
const APT_GET = `echo "apt-get $*" >> "$FAKE_CALLS"
case " $* " in *" install "*" chromium "*)
  printf '#!/bin/sh\\n' > "$FAKE_BIN/chromium"; /bin/chmod 755 "$FAKE_BIN/chromium";;
esac`;
const APT_GET_NO_OP = 'echo "apt-get $*" >> "$FAKE_CALLS"';
const SUDO_OK = 'echo "sudo $*" >> "$FAKE_CALLS"; [ "$1" = -n ] && shift; [ "$1" = true ] && exit 0; exec "$@"';
const SUDO_ASKS = 'exit 1'; // sudo -n fails when a password would be needed
const DPKG_FONT_MISSING = 'exit 1';
const DPKG_ALL_INSTALLED = "printf 'install ok installed'";

function quietLog() {
  const lines: string[] = [];
  return {
    lines,
    log: (s: string) => {
      lines.push(s);
    },
  };
}

test('a Chromium on PATH is used as it is, with nothing installed', () => {
  const m = fakeMachine({ chromium: 'exit 0', 'apt-get': APT_GET, 'dpkg-query': DPKG_ALL_INSTALLED });
  try {
    const q = quietLog();
    assert.equal(ensureChromium({ env: m.env, uid: 0, log: q.log }), path.join(m.bin, 'chromium'));
    assert.deepEqual(m.calls(), []);
    assert.deepEqual(q.lines, []);
  } finally {
    m.done();
  }
});

test('PSRLM_CHROMIUM picks the browser, and one that is not there is an error, not a fallback', () => {
  const m = fakeMachine({ chromium: 'exit 0', 'my-chrome': 'exit 0' });
  try {
    const mine = path.join(m.bin, 'my-chrome');
    assert.equal(findChromium({ ...m.env, PSRLM_CHROMIUM: mine }), mine);
    assert.throws(
      () => findChromium({ ...m.env, PSRLM_CHROMIUM: path.join(m.dir, 'nowhere') }),
      /PSRLM_CHROMIUM=.*nowhere.*not an executable/,
    );
  } finally {
    m.done();
  }
});

test('as root, a missing Chromium is installed with apt-get, loudly', () => {
  const m = fakeMachine({ 'apt-get': APT_GET });
  try {
    const q = quietLog();
    assert.equal(findChromium(m.env), undefined);
    assert.equal(ensureChromium({ env: m.env, uid: 0, log: q.log }), path.join(m.bin, 'chromium'));
    const calls = m.calls();
    assert.equal(calls.length, 2);
    assert.match(calls[0]!, /^apt-get update/);
    assert.match(calls[1]!, /^apt-get install -y .*--no-install-recommends.* chromium fonts-dejavu-core$/);
    assert.match(q.lines.join('\n'), /installing chromium, fonts-dejavu-core with apt-get/);
    assert.match(q.lines.join('\n'), /installed chromium, fonts-dejavu-core in \d+ s/);
  } finally {
    m.done();
  }
});

test('Chromium missing from PATH is installed even where dpkg lists its package; the font is kept', () => {
  const m = fakeMachine({ 'apt-get': APT_GET, 'dpkg-query': DPKG_ALL_INSTALLED });
  try {
    assert.equal(ensureChromium({ env: m.env, uid: 0, log: () => {} }), path.join(m.bin, 'chromium'));
    assert.match(m.calls()[1]!, /^apt-get install .* chromium$/);
  } finally {
    m.done();
  }
});

test('a user with password-free sudo installs through sudo; only the missing font when Chromium is there', () => {
  const m = fakeMachine({ chromium: 'exit 0', 'apt-get': APT_GET, sudo: SUDO_OK, 'dpkg-query': DPKG_FONT_MISSING });
  try {
    const q = quietLog();
    assert.equal(ensureChromium({ env: m.env, uid: 1000, log: q.log }), path.join(m.bin, 'chromium'));
    const calls = m.calls().filter((c) => c.startsWith('apt-get'));
    assert.deepEqual(
      calls.map((c) => c.split(' ')[1]),
      ['update', 'install'],
    );
    assert.match(calls[1]!, / fonts-dejavu-core$/);
    assert.doesNotMatch(calls[1]!, / chromium /);
    assert.ok(
      m.calls().some((c) => /^sudo -n \S*apt-get install/.test(c)),
      m.calls().join('\n'),
    );
    assert.match(q.lines.join('\n'), /through sudo/);
  } finally {
    m.done();
  }
});

test('a user who may not install gets the one command to run, and nothing is attempted', () => {
  const machines: Array<Record<string, string>> = [{ 'apt-get': APT_GET }, { 'apt-get': APT_GET, sudo: SUDO_ASKS }];
  for (const programs of machines) {
    const m = fakeMachine(programs);
    try {
      assert.throws(
        () => ensureChromium({ env: m.env, uid: 1000, log: () => {} }),
        /not root and has no password-free sudo\. Run once: sudo apt-get install -y --no-install-recommends chromium /,
      );
      assert.deepEqual(m.calls(), []);
    } finally {
      m.done();
    }
  }
});

test('without apt-get the error says to install Chromium another way', () => {
  const m = fakeMachine({});
  try {
    assert.throws(
      () => ensureChromium({ env: m.env, uid: 0, log: () => {} }),
      /no apt-get: install Chromium with its package manager.*PSRLM_CHROMIUM/,
    );
  } finally {
    m.done();
  }
});

test('a missing font where nothing can install it is a warning: the Chromium there is used', () => {
  const m = fakeMachine({ chromium: 'exit 0', 'dpkg-query': DPKG_FONT_MISSING });
  try {
    const q = quietLog();
    assert.equal(ensureChromium({ env: m.env, uid: 0, log: q.log }), path.join(m.bin, 'chromium'));
    assert.match(q.lines.join('\n'), /warning: fonts-dejavu-core not installed .*no apt-get/);
  } finally {
    m.done();
  }
});

test('an install that leaves no chromium on PATH is an error', () => {
  const m = fakeMachine({ 'apt-get': APT_GET_NO_OP });
  try {
    assert.throws(
      () => ensureChromium({ env: m.env, uid: 0, log: () => {} }),
      /apt-get installed chromium, fonts-dejavu-core but no `chromium` is on PATH/,
    );
  } finally {
    m.done();
  }
});

test('a failing apt-get stops with its status and the command to run by hand', () => {
  const m = fakeMachine({ 'apt-get': 'exit 100' });
  try {
    assert.throws(
      () => ensureChromium({ env: m.env, uid: 0, log: () => {} }),
      /apt-get update: .* exited with status 100\. Install the packages yourself: sudo apt-get install/,
    );
  } finally {
    m.done();
  }
});
