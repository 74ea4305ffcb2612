// The macOS Seatbelt profile, read as Seatbelt reads it: parsed, then each question answered by the last matching rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sbplString, seatbeltCommand, seatbeltProfile, type SeatbeltOptions } from '../../src/core/render/seatbelt';

type Node = string | { text: string } | Node[];

/** A reader for the SBPL the profile uses: lists, symbols, numbers, string literals with \\ escapes, ; comments. */
function parse(source: string): Node[] {
  let i = 0;
  const read = (): Node => {
    const c = source[i];
    if (c === '(') {
      i += 1;
      const list: Node[] = [];
      for (;;) {
        skipSpace();
        assert.ok(i < source.length, 'an unclosed list');
        if (source[i] === ')') {
          i += 1;
          return list;
        }
        list.push(read());
      }
    }
    if (c === '"') {
      i += 1;
      let text = '';
      for (;;) {
        assert.ok(i < source.length, 'an unclosed string');
        const d = source[i++];
        if (d === '"') return { text };
        if (d === '\\') {
          const escaped = source[i++];
          assert.ok(escaped === '\\' || escaped === '"', `an unknown escape \\${escaped}`);
          text += escaped;
        } else {
          text += d;
        }
      }
    }
    assert.notEqual(c, ')', `an unbalanced ) at ${i}`);
    const start = i;
    while (i < source.length && !/[\s()";]/.test(source[i] ?? '')) i += 1;
    return source.slice(start, i);
  };
  const skipSpace = (): void => {
    for (;;) {
      while (i < source.length && /\s/.test(source[i] ?? '')) i += 1;
      if (source[i] !== ';') return;
      while (i < source.length && source[i] !== '\n') i += 1;
    }
  };
  const forms: Node[] = [];
  for (;;) {
    skipSpace();
    if (i >= source.length) return forms;
    forms.push(read());
  }
}

interface Rule {
  action: 'allow' | 'deny';
  operations: string[];
  filters: { kind: string; value: string }[];
}

function rules(profile: string): Rule[] {
  const forms = parse(profile);
  assert.deepEqual(forms[0], ['version', '1']);
  return forms.slice(1).map((form) => {
    assert.ok(Array.isArray(form), `a rule is a list: ${JSON.stringify(form)}`);
    const [action, ...rest] = form;
    assert.ok(action === 'allow' || action === 'deny', `allow or deny, not ${JSON.stringify(action)}`);
    const operations = rest.filter((node): node is string => typeof node === 'string');
    const filters = rest.filter((node): node is Node[] => Array.isArray(node)).map((filter) => {
      const [kind, value] = filter;
      assert.equal(typeof kind, 'string');
      assert.equal(filter.length, 2, JSON.stringify(filter));
      return { kind: kind as string, value: typeof value === 'object' && !Array.isArray(value) ? value.text : String(value) };
    });
    return { action, operations, filters };
  });
}

function opMatches(pattern: string, operation: string): boolean {
  return pattern === 'default' || pattern === operation || (pattern.endsWith('*') && operation.startsWith(pattern.slice(0, -1)));
}

function filterMatches(filter: { kind: string; value: string }, path: string | undefined): boolean {
  switch (filter.kind) {
    case 'subpath':
      return path !== undefined && (path === filter.value || path.startsWith(`${filter.value}/`));
    case 'literal':
      return path === filter.value;
    case 'global-name':
      return path === filter.value;
    case 'target':
      return filter.value === 'self' && path === 'self';
    default:
      return assert.fail(`a filter this test does not know: ${filter.kind}`);
  }
}

/** Seatbelt's answer: the last rule whose operation and (any) filter match. */
function decide(profile: string, operation: string, target?: string): 'allow' | 'deny' {
  let verdict: 'allow' | 'deny' = 'deny';
  for (const rule of rules(profile)) {
    if (!rule.operations.some((op) => opMatches(op, operation))) continue;
    if (rule.filters.length > 0 && !rule.filters.some((filter) => filterMatches(filter, target))) continue;
    verdict = rule.action;
  }
  return verdict;
}

const options: SeatbeltOptions = {
  scratch: '/tmp/refigure-render-1/req-7',
  readRoots: ['/Users/ada/.pyenv/versions/3.12.4', '/Users/ada/project/python', '/opt/homebrew/lib/python3.12/site-packages'],
  home: '/Users/ada',
  python: ['/Users/ada/project/.venv/bin/python', '/Users/ada/.pyenv/versions/3.12.4/bin/python3.12'],
};

test('the profile denies by default and opens only the system, the interpreter and scratch', () => {
  const profile = seatbeltProfile(options);
  const list = rules(profile);
  assert.deepEqual(list[0], { action: 'deny', operations: ['default'], filters: [] });
  // /tmp is a symlink on macOS and Seatbelt compares resolved paths.
  const scratch = '/private/tmp/refigure-render-1/req-7';
  assert.equal(decide(profile, 'file-write-data', `${scratch}/out.png`), 'allow');
  assert.equal(decide(profile, 'file-read-data', `${scratch}/out.png`), 'allow');
  assert.equal(decide(profile, 'file-write-create', '/private/tmp/refigure-render-1/req-8/out.png'), 'deny', 'another request’s folder');
  assert.equal(decide(profile, 'file-write-create', '/tmp/refigure-render-1/req-7/out.png'), 'deny', 'only the resolved path is named');
  assert.equal(decide(profile, 'file-write-data', '/usr/local/bin/python3'), 'deny');
  assert.equal(decide(profile, 'file-write-data', '/Users/ada/.zshrc'), 'deny');
  assert.equal(decide(profile, 'file-write-data', '/dev/null'), 'allow');
  assert.equal(decide(profile, 'file-read-data', '/System/Library/Fonts/Helvetica.ttc'), 'allow');
  assert.equal(decide(profile, 'file-read-data', '/usr/lib/libSystem.B.dylib'), 'allow');
  assert.equal(decide(profile, 'file-read-data', '/private/etc/hosts'), 'allow');
  assert.equal(decide(profile, 'file-read-data', '/opt/homebrew/lib/python3.12/site-packages/numpy/__init__.py'), 'allow');
  assert.equal(decide(profile, 'file-read-data', '/opt/homebrew/etc/secrets'), 'deny', 'beside a read root, not under it');
  assert.equal(decide(profile, 'file-read-data', '/private/tmp/refigure-render-1/req-8/secret'), 'deny');
  assert.equal(decide(profile, 'network-outbound', '/private/var/run/mDNSResponder'), 'deny');
  assert.equal(decide(profile, 'network-bind'), 'deny');
  assert.equal(decide(profile, 'process-fork'), 'deny');
  assert.equal(decide(profile, 'mach-lookup', 'com.apple.fonts'), 'allow');
  assert.equal(decide(profile, 'mach-lookup', 'com.apple.FontObjectsServer'), 'allow');
  assert.equal(decide(profile, 'mach-lookup', 'com.apple.pasteboard.1'), 'deny');
  assert.equal(decide(profile, 'sysctl-read'), 'allow');
  assert.equal(decide(profile, 'signal', 'self'), 'allow');
  assert.equal(decide(profile, 'signal', 'other'), 'deny');
});

test('the home folder stays hidden except the interpreter’s own prefix inside it', () => {
  const profile = seatbeltProfile(options);
  assert.equal(decide(profile, 'file-read-data', '/Users/ada/.ssh/id_ed25519'), 'deny');
  assert.equal(decide(profile, 'file-read-data', '/Users/ada/Library/Keychains/login.keychain-db'), 'deny');
  assert.equal(decide(profile, 'file-read-data', '/Users/ada/project/secrets.env'), 'deny', 'the repository beside python/');
  assert.equal(decide(profile, 'file-read-data', '/Users/ada/project/python/refigure_worker.py'), 'allow');
  assert.equal(decide(profile, 'file-read-data', '/Users/ada/.pyenv/versions/3.12.4/lib/python3.12/os.py'), 'allow');
  assert.equal(decide(profile, 'file-write-data', '/Users/ada/.pyenv/versions/3.12.4/lib/python3.12/os.py'), 'deny');
  assert.equal(decide(profile, 'file-read-data', '/Users/ada/project/.venv/bin/python'), 'allow', 'the interpreter as launched');
  assert.equal(decide(profile, 'file-read-data', '/Users/ada/project/.venv/pyvenv.cfg'), 'deny', 'not the rest of its folder');
  // Python resolves its own paths, so the folders above may be looked at, but not listed or read.
  assert.equal(decide(profile, 'file-read-metadata', '/Users/ada'), 'allow');
  assert.equal(decide(profile, 'file-read-data', '/Users/ada'), 'deny');
  assert.equal(decide(profile, 'file-read-metadata', '/Users/ada/.ssh'), 'deny');
});

test('with nothing of the interpreter in the home folder, the home folder is simply closed', () => {
  const profile = seatbeltProfile({ scratch: '/private/var/folders/xy/T/refigure-1', readRoots: ['/opt/homebrew/Cellar/python@3.12'], home: '/Users/ada', python: ['/opt/homebrew/bin/python3'] });
  assert.equal(decide(profile, 'file-read-data', '/Users/ada/.ssh/id_ed25519'), 'deny');
  assert.equal(decide(profile, 'file-read-data', '/Users/ada'), 'deny');
  assert.equal(decide(profile, 'file-read-data', '/opt/homebrew/bin/python3'), 'allow');
  assert.equal(decide(profile, 'file-read-data', '/opt/homebrew/bin/pip3'), 'deny');
  assert.equal(decide(profile, 'file-write-create', '/private/var/folders/xy/T/refigure-1/out.png'), 'allow');
  assert.equal(decide(profile, 'file-write-create', '/private/var/folders/xy/T/other/out.png'), 'deny');
});

test('only the interpreter may start, and no fork unless a forking worker asks for it', () => {
  const profile = seatbeltProfile(options);
  assert.equal(decide(profile, 'process-exec', '/Users/ada/project/.venv/bin/python'), 'allow');
  assert.equal(decide(profile, 'process-exec', '/Users/ada/.pyenv/versions/3.12.4/bin/python3.12'), 'allow');
  assert.equal(decide(profile, 'process-exec', '/bin/sh'), 'deny');
  assert.equal(decide(profile, 'process-exec', '/usr/bin/curl'), 'deny');
  assert.equal(decide(profile, 'process-exec', '/Users/ada/.pyenv/versions/3.12.4/bin/pip'), 'deny', 'another program in the prefix');
  assert.equal(decide(profile, 'process-fork'), 'deny');
  const worker = seatbeltProfile({ ...options, allowFork: true });
  assert.equal(decide(worker, 'process-fork'), 'allow');
  assert.equal(decide(worker, 'process-exec', '/bin/sh'), 'deny');
});

test('a path that closes the string cannot add a rule', () => {
  const hostile = '/tmp/a") (allow file-write* (subpath "/")) (allow network*) ("';
  const hostileRoot = '/opt/x\\") (allow default) ;';
  const profile = seatbeltProfile({ ...options, scratch: hostile, readRoots: [...options.readRoots, hostileRoot] });
  const list = rules(profile);
  // The same number of rules as a plain profile: nothing was injected.
  assert.equal(list.length, rules(seatbeltProfile({ ...options, readRoots: [...options.readRoots, '/opt/x'] })).length);
  const values = list.flatMap((rule) => rule.filters.map((filter) => filter.value));
  assert.ok(values.includes(`/private${hostile}`), 'the path comes back exactly, as one string');
  assert.ok(values.includes(hostileRoot));
  assert.equal(decide(profile, 'file-write-data', '/etc/passwd'), 'deny');
  assert.equal(decide(profile, 'file-write-data', '/Users/ada/.zshrc'), 'deny');
  assert.equal(decide(profile, 'network-outbound'), 'deny');
  assert.equal(decide(profile, 'file-write-data', `/private${hostile}/out.png`), 'allow');
  assert.ok(!list.some((rule) => rule.action === 'allow' && rule.operations.includes('default')));
  assert.equal(sbplString('a"b\\c'), '"a\\"b\\\\c"');
});

test('paths the profile cannot name safely are refused', () => {
  assert.throws(() => seatbeltProfile({ ...options, scratch: '/tmp/a\nb' }), /control character/);
  assert.throws(() => seatbeltProfile({ ...options, scratch: 'relative/scratch' }), /must be absolute/);
  assert.throws(() => seatbeltProfile({ ...options, scratch: '/tmp/x/../../Users/ada' }), /must not contain "\.\."/);
  assert.throws(() => seatbeltProfile({ ...options, readRoots: ['/'] }), /would open the whole home folder/);
  assert.throws(() => seatbeltProfile({ ...options, readRoots: ['/Users'] }), /would open the whole home folder/);
  assert.throws(() => seatbeltProfile({ ...options, readRoots: ['/Users/ada/'] }), /would open the whole home folder/);
  assert.throws(() => seatbeltProfile({ ...options, scratch: '/Users' }), /would make the home folder writable/);
  assert.throws(() => seatbeltProfile({ ...options, home: '' }), /needs the home folder/);
  assert.throws(() => seatbeltProfile({ ...options, python: [] }), /needs the interpreter/);
});

test('sandbox-exec gets the profile inline, then the interpreter and its arguments', () => {
  const profile = seatbeltProfile(options);
  assert.deepEqual(seatbeltCommand('/usr/bin/python3', ['-I', '-u', 'worker.py'], profile), {
    command: '/usr/bin/sandbox-exec',
    args: ['-p', profile, '/usr/bin/python3', '-I', '-u', 'worker.py'],
  });
});
