// The README's reference lists, against the code: the method table and the option and field names it
// gives, the model's table, the error codes, the createCache options, the stats fields, the scripts it
// names and the no-bundler page's import map.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { albumKey, CACHE_ERROR_CODES, createCache, createCacheEvent, HOUR, DAY, INFINITE_TTL, MINUTE, SmartCacheConfig, type CacheEventInput, type ContentType } from '../src/index';
import { readmeBlocks, README, type ReadmeBlock } from './support/readmeBlocks';
import { typeErrors } from './support/readmeTypes';
import { openCache, rejection } from './support/openCache';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(README, 'utf8');
const lines = readme.split('\n');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string>; exports: Record<string, Record<string, string>> };

/** The README line (1-based) of the only line that contains `text`. */
function lineOf(text: string): number {
  const found = lines.flatMap((line, index) => (line.includes(text) ? [index + 1] : []));
  if (found.length !== 1) throw new Error(`the README has ${found.length} lines with ${JSON.stringify(text)}`);
  return found[0]!;
}

/** The field names an object written in the README shows: `{ a?, b: 'x' \| 'y', c }` → a, b, c. */
function fieldsOf(text: string): string[] {
  const inside = /\{(.*)\}/.exec(text.replace(/'[^']*'/g, ''))?.[1] ?? '';
  return [...inside.matchAll(/(\w+)\??\s*(?=[:,]|$)/g)].map((match) => match[1]!);
}

/** The `{ … }` that follows `key` in `text`, braces balanced. */
function objectAfter(text: string, key: string): string {
  const start = text.indexOf(`${key}{`) + key.length;
  let depth = 0;
  for (let at = start; at < text.length; at++) {
    depth += text[at] === '{' ? 1 : text[at] === '}' ? -1 : 0;
    if (depth === 0) return text.slice(start, at + 1);
  }
  throw new Error(`no object after ${key} in ${text}`);
}

/** The names of an object's own fields, not those of the objects inside it. */
function topFields(object: string): string[] {
  let inside = object.trim().slice(1, -1);
  while (/\{[^{}]*\}/.test(inside)) inside = inside.replace(/\{[^{}]*\}/g, '');
  return fieldsOf(`{${inside}}`);
}

/** A string union type of names. */
const union = (names: readonly string[]) => names.map((name) => `'${name}'`).join(' | ') || 'never';

/** One type check, on the README line it is about. */
const check = (line: number, assertion: string): ReadmeBlock => ({
  lang: 'ts',
  line,
  section: '',
  code: `import type * as R from 'reprise'; const _is: Same<${assertion}> = true;`,
});

describe('the README lists what the public types have', () => {
  it('the method table names every method of Cache, with the option and result fields of each', () => {
    const at = lineOf('| method | meaning |');
    const rows = lines.slice(at + 1, lines.indexOf('', at)).map((row, index) => ({ row, line: at + 2 + index }));
    const signatures = rows.flatMap(({ row, line }) => [...row.split(' | ')[0]!.matchAll(/`([^`]+)`(?: → `?([^`|·]+)`?)?/g)].map((match) => ({ line, call: match[1]!, result: match[2]?.trim() })));
    const names = signatures.map(({ call }) => /^(\[Symbol\.asyncDispose\]|\w+)\(/.exec(call)?.[1]).filter((name): name is string => !!name);
    const methods = names.filter((name) => !name.startsWith('['));
    const checks: ReadmeBlock[] = [check(at, `${union(methods)}${names.includes('[Symbol.asyncDispose]') ? ' | typeof Symbol.asyncDispose' : ''}, keyof R.Cache`)];
    const options: Record<string, string> = { get: 'GetOptions', getMany: 'GetManyOptions', set: 'SetOptions', setMany: 'SetManyOptions', keys: 'ListOptions', entries: 'ListOptions' };
    const results: Record<string, string> = { resolve: 'R.Resolved', emit: 'R.EmitReport' };
    for (const { line, call, result } of signatures) {
      const name = /^(\w+)\(/.exec(call)?.[1] ?? '';
      const written = /(\{[^}]*\})\)$/.exec(call)?.[1];
      if (options[name]) checks.push(check(line, `${union(written ? fieldsOf(written) : [])}, keyof R.${options[name]}`));
      if (results[name]) checks.push(check(line, `${union(fieldsOf(result ?? ''))}, keyof ${results[name]}`));
      // What the other results say, as the method's return type.
      const returns: Record<string, string> = { boolean: 'Promise<boolean>', number: 'Promise<number>', 'string[]': 'Promise<string[]>', unsubscribe: '() => void' };
      if (result && returns[result]) checks.push(check(line, `ReturnType<R.Cache['${name}']>, ${returns[result]}`));
    }
    const on = rows.find(({ row }) => row.startsWith('| `on('))!;
    checks.push(check(on.line, `${union(fieldsOf(/listener\(event, (\{[^}]*\})\)/.exec(on.row)![1]!))}, keyof R.EventContext`));
    const watch = rows.find(({ row }) => row.startsWith('| `watch('))!;
    checks.push(check(watch.line, `${union(fieldsOf(/listener\((\{[^}]*\})\)/.exec(watch.row)![1]!))}, keyof R.CacheChange`));
    const kinds = [.../`kind` is (.*?); /.exec(watch.row)![1]!.matchAll(/`(\w+)`/g)].map((match) => match[1]!);
    checks.push(check(watch.line, `${union(kinds)}, R.ChangeKind`));
    const resolve = rows.find(({ row }) => row.startsWith('| `resolve('))!;
    checks.push(check(resolve.line, `${union([...resolve.row.matchAll(/`'(\w+)'`/g)].map((match) => match[1]!))}, R.ResolveSource`));
    expect(methods.length).toBeGreaterThanOrEqual(15);
    expect(typeErrors(checks, 'ts')).toEqual([]);
  }, 60_000);

  it("Reading through names the fetcher's context and the options of getOrSet and resolve", () => {
    const at = lineOf('Fetchers get `{');
    const paragraph = lines.slice(at - 1, at + 3).join(' ');
    const context = fieldsOf(/Fetchers get `(\{[^}]*\})`/.exec(paragraph)![1]!);
    const plus = paragraph.split('the `set` options,')[1]!.replace(/\([^)]*\)/g, '').split('.')[0]!;
    const extra = [...plus.matchAll(/`(\w+)`/g)].map((match) => match[1]!);
    expect(extra.length).toBeGreaterThanOrEqual(3);
    const checks = [check(at, `${union(context)}, keyof R.FetcherContext`), check(at, `keyof R.SetOptions | ${union(extra)}, keyof R.ResolveOptions`)];
    expect(typeErrors(checks, 'ts')).toEqual([]);
  }, 60_000);

  it("Options names every createCache option, and the tour's stats() comment every field of a type's stats", () => {
    const options = lineOf('`createCache({ name?');
    const written = /`createCache\((\{[^}]*\})\)`/.exec(lines[options - 1]!)![1]!;
    const stats = lineOf('await cache.stats(); // per type:');
    const fields = /per type: (.*)$/.exec(lines[stats - 1]!)![1]!.split(/,\s*/);
    const checks = [check(options, `${union(fieldsOf(written))}, keyof R.CreateCacheOptions`), check(stats, `${union(fields)}, keyof R.TypeStats`)];
    expect(typeErrors(checks, 'ts')).toEqual([]);
  }, 60_000);

  it("Options gives config's fields: the caching ones and a policy's", () => {
    const at = lineOf('`{ caching: {');
    const caching = objectAfter(lines[at - 1]!, 'caching: ');
    const policy = objectAfter(caching, '[type]: ');
    const checks = [
      check(at, `${union(topFields(caching))}, keyof NonNullable<R.CacheConfig['caching']>`),
      check(at, `${union(topFields(policy))}, keyof R.PolicyPatch`),
    ];
    expect(typeErrors(checks, 'ts')).toEqual([]);
  }, 60_000);

  it("Your own content types names a custom type's required fields, then its optional ones", () => {
    const at = lineOf('each with a whole');
    const paragraph = lines.slice(at - 1, at + 3).join(' ').replace(/\([^)]*\)/g, '');
    const [required, optional] = paragraph.split('policy:')[1]!.split('and optionally').map((part) => [...part.matchAll(/`(\w+)`/g)].map((match) => match[1]!));
    const requiredKeys = '{ [K in keyof R.CustomTypeConfig]-?: {} extends Pick<R.CustomTypeConfig, K> ? never : K }[keyof R.CustomTypeConfig]';
    const checks = [check(at, `${union(required!)}, ${requiredKeys}`), check(at, `${union(optional!)}, Exclude<keyof R.CustomTypeConfig, ${requiredKeys}>`)];
    expect(typeErrors(checks, 'ts')).toEqual([]);
  }, 60_000);

  it("the model's Events give an event's fields", () => {
    const at = lineOf('`{ eventType, trackId?');
    const written = /`(\{ eventType[^`]*\})`/.exec(lines[at - 1]!)![1]!;
    expect(typeErrors([check(at, `${union(fieldsOf(written))}, keyof R.CacheEventInput`)], 'ts')).toEqual([]);
  }, 60_000);

  it("the model's SmartCacheConfig and EventDrivenCacheManager methods are theirs", () => {
    const at = lineOf('`new SmartCacheConfig(config?)`');
    const paragraph = lines.slice(at - 1, lines.indexOf('', at)).join(' ');
    const [config, manager] = paragraph.split('`new EventDrivenCacheManager(').map((part) => [...part.matchAll(/`(?:static )?(\w+)\(/g)].map((match) => match[1]!));
    const statics = [...paragraph.matchAll(/the static `(\w+)\(/g)].map((match) => match[1]!);
    const checks = [
      check(at, `${union(config!.filter((name) => name !== 'SmartCacheConfig' && !statics.includes(name)))} | keyof R.SmartCacheConfig, keyof R.SmartCacheConfig`),
      check(at, `${union(statics)} | keyof typeof R.SmartCacheConfig, keyof typeof R.SmartCacheConfig`),
      check(at, `${union(manager!.filter((name) => name !== 'EventDrivenCacheManager'))} | keyof R.EventDrivenCacheManager, keyof R.EventDrivenCacheManager`),
    ];
    expect(config!.length + manager!.length).toBeGreaterThan(12);
    expect(typeErrors(checks, 'ts')).toEqual([]);
  }, 60_000);

  it('a check fails on the README line of a list that is wrong', () => {
    expect(typeErrors([check(7, "'get' | 'put', 'get' | 'set'")], 'ts')).toEqual([expect.stringMatching(/^README line 7: /)]);
  }, 60_000);
});

describe('the README lists what the code does', () => {
  it('Errors lists every CacheError code, in order', () => {
    const at = lineOf('with a stable `code`');
    const paragraph = lines.slice(at - 1, at + 3).join(' ');
    // The codes, without what the parentheses say of them (`aborted` (a caller's `signal`)).
    const list = paragraph.split('writes nothing:')[1]!.split(/\)\. /)[0]!.replace(/\([^)]*$/g, '');
    const codes = [...list.matchAll(/`([a-z_]+)`/g)].map((match) => match[1]!);
    expect(codes).toEqual([...CACHE_ERROR_CODES]);
  });

  it("the model's table gives each built-in type's TTL, strategy, budget and storage", async () => {
    const at = lineOf('| type | TTL | strategy | budget | storage |');
    const rows = lines.slice(at + 1, lines.indexOf('', at)).map((row) => row.split('|').slice(1, -1).map((cell) => cell.trim()));
    const config = new SmartCacheConfig();
    const { cache } = await openCache();
    const { types } = await cache.stats();
    await cache.close();
    const units: Record<string, number> = { hour: HOUR, day: DAY, minute: MINUTE };
    const ttl = (cell: string) => {
      if (cell.startsWith('∞')) return INFINITE_TTL;
      const [, count, unit] = /(\d+) (hour|day|minute)s?\)?$/.exec(cell) ?? [];
      return Number(count) * units[unit!]!;
    };
    const written = rows.map(([type, ttlCell, strategy, budget, storage]) => ({ type: type!.replaceAll('`', ''), ttl: ttl(ttlCell!), strategy, budget, storage }));
    const actual = written.map(({ type }) => {
      const policy = config.getPolicy(type);
      const stats = types[type as ContentType];
      return {
        type,
        ttl: policy.ttlSeconds,
        strategy: policy.invalidationStrategy,
        budget: `${policy.maxSizeMb} MB`,
        storage: stats.storage === 'indexeddb' ? 'IndexedDB' : 'memory',
      };
    });
    expect(written).toEqual(actual);
    expect(written.map(({ type }) => type)).toEqual(Object.keys(types));
    expect(written.every(({ type, budget }) => types[type as ContentType].maxBytes === parseInt(budget!, 10) * 2 ** 20)).toBe(true);
  });

  it("Options gives config's defaults and the exports that hold them", async () => {
    const at = lineOf('`config` is a literal or a `SmartCacheConfig`');
    const paragraph = lines.slice(at - 1, lines.indexOf('', at)).join(' ');
    const reprise = (await import('../src/index')) as unknown as Record<string, unknown>;
    const { caching } = new SmartCacheConfig().toJSON();
    const stated = [...paragraph.matchAll(/`(\w+)`(?: is)? (\d[\d.]*)( days)?(?: \(`(\w+)`)?/g)].map(([, field, value, days, name]) => ({
      field: field!,
      value: Number(value) * (days ? DAY : 1),
      name,
    }));
    expect(stated.map(({ field }) => field)).toEqual(['cleanupThreshold', 'staleWhileRevalidateSeconds', 'negativeResultTtl', 'cleanupIntervalSeconds']);
    const policies = Object.values(caching!.policies!);
    const actual = stated.map(({ field, name }) => ({
      field,
      value: field in caching! ? caching![field as keyof typeof caching] : policies.map((policy) => policy![field as keyof typeof policy])[0],
      name,
    }));
    expect(stated).toEqual(actual);
    // Every built-in type starts with the same value of each policy field the paragraph gives.
    for (const { field, value } of stated.filter(({ field }) => !(field in caching!))) {
      expect(policies.map((policy) => policy![field as keyof typeof policy])).toEqual(policies.map(() => value));
    }
    expect(stated.filter(({ name }) => name).map(({ name, value }) => reprise[name!] === value)).toEqual([true, true, true]);
  });

  it("Reading through's prefix lists the keys albumKey gives an artist's albums, and no other artist's", () => {
    const line = lines[lineOf("{ prefix: '[")  - 1]!;
    const [, prefix, artist] = /prefix: '([^']+)' \}\); \/\/ albumKey\('([^']+)', x\) for every album x/.exec(line)!;
    expect([albumKey(artist!, 'Gold'), albumKey(` ${artist!.toLowerCase()}`, 'Arrival')].every((key) => key.startsWith(prefix!))).toBe(true);
    expect([albumKey(`${artist!} Teens`, 'Gold'), albumKey('Gold', artist!)].some((key) => key.startsWith(prefix!))).toBe(false);
  });

  it("the model's Events say which event needs what, and the message that says so", async () => {
    const at = lineOf('the three track events need a `trackId`');
    const paragraph = lines.slice(at - 1, at + 3).join(' ').replace(/\s+/g, ' ');
    const message = /\("([^"]+)"\)/.exec(paragraph)![1]!;
    const { cache } = await openCache();
    const failures = await Promise.all(
      (['track_added', 'track_removed', 'track_modified', 'fingerprint_changed'] as const).map((eventType) =>
        rejection(cache.emit({ eventType } as CacheEventInput)),
      ),
    );
    await cache.close();
    expect(failures.map(({ code }) => code)).toEqual(['invalid_event', 'invalid_event', 'invalid_event', 'invalid_event']);
    expect(failures[1]!.message).toContain(message);
    expect(failures[3]!.message).toContain('fingerprint required for fingerprint_changed');
    expect(() => createCacheEvent({ eventType: 'track_removed' } as CacheEventInput)).toThrow(message);
    expect(createCacheEvent({ eventType: 'library_sync', metadata: { artist: 'A', album: 'B' } })).toEqual({ eventType: 'library_sync', metadata: { artist: 'A', album: 'B' } });
  });

  it("every value the entry exports is named in the README, and the model's times are the exports'", async () => {
    const reprise = (await import('../src/index')) as unknown as Record<string, unknown>;
    expect(Object.keys(reprise).filter((name) => !readme.includes(`\`${name}`))).toEqual([]);
    const at = lineOf('The names are exported as lists');
    const paragraph = lines.slice(at - 1, at + 2).join(' ');
    const days = Object.fromEntries([...paragraph.matchAll(/`(\w+)` \((\d+) days\)/g)].map(([, name, count]) => [name!, Number(count) * 86_400]));
    expect(days).toEqual({ MONTH: reprise.MONTH, INFINITE_TTL: reprise.INFINITE_TTL });
    expect(reprise.DEFAULT_NEGATIVE_RESULT_TTL).toBe(reprise.MONTH);
  });

  it("Options gives createCache's default name: the IndexedDB database it opens", async () => {
    const [, name] = /`name`\s+\(`'(\w+)'` by default\)/.exec(readme)!;
    const indexedDB = new IDBFactory();
    const cache = await createCache({ worker: false, indexedDB });
    await cache.set('track_metadata', 'k', 1);
    await cache.close();
    expect((await indexedDB.databases()).map((database) => database.name)).toEqual([name]);
  });

  it('every npm script the README names exists', () => {
    const named = [...new Set([...readme.matchAll(/npm run ([\w:-]+)/g)].map((match) => match[1]!))];
    expect(named.length).toBeGreaterThanOrEqual(5);
    expect(named.filter((script) => !(script in pkg.scripts))).toEqual([]);
  });

  it("the no-bundler page's import map is the one the Chromium test loads (test/fixtures/consumer/nobundler), and names files npm installs", () => {
    const html = readmeBlocks().find((block) => block.lang === 'html' && block.code.includes('importmap'))!;
    const imports = (code: string) => (JSON.parse(/<script type="importmap">([\s\S]*?)<\/script>/.exec(code)![1]!) as { imports: Record<string, string> }).imports;
    const fixture = imports(readFileSync(join(root, 'test/fixtures/consumer/nobundler/index.html'), 'utf8'));
    const written = imports(html.code);
    expect(written).toEqual(Object.fromEntries(Object.entries(fixture).map(([name, path]) => [name, path.replace(/^\.\.\//, './')])));
    expect(written.reprise).toBe(`./node_modules/reprise/${pkg.exports['.']!.import!.replace(/^\.\//, '')}`);
    const others = Object.entries(written).filter(([name]) => name !== 'reprise');
    expect(others.filter(([, path]) => !existsSync(join(root, path)))).toEqual([]);
  });

  it("a library built with First use's vite.config (A library that uses Reprise) leaves every entry of Reprise it imports to the app, reprise/tanstack-query too: it bundles no copy of Reprise", async () => {
    const config = readmeBlocks().find((block) => block.section === 'First use' && block.code.includes('lib: {'))!;
    const folder = await mkdtemp(join(tmpdir(), 'reprise-library-'));
    try {
      // Reprise as installed, each entry saying where its code went; a library that imports both.
      const installed = join(folder, 'node_modules/reprise');
      await mkdir(installed, { recursive: true });
      await writeFile(join(installed, 'package.json'), JSON.stringify({ name: 'reprise', type: 'module', exports: { '.': './index.js', './tanstack-query': './tanstack-query.js' } }));
      await writeFile(join(installed, 'index.js'), "export const createCache = () => 'reprise, bundled into the library';\n");
      await writeFile(join(installed, 'tanstack-query.js'), "export const createPersister = () => 'reprise/tanstack-query, bundled into the library';\n");
      await mkdir(join(folder, 'src'));
      await writeFile(join(folder, 'src/index.js'), "import { createCache } from 'reprise';\nimport { createPersister } from 'reprise/tanstack-query';\n\nexport const start = () => [createCache(), createPersister()];\n");
      await writeFile(join(folder, 'package.json'), JSON.stringify({ name: 'a-library', type: 'module' }));
      await writeFile(join(folder, 'vite.config.js'), config.code);
      const { build } = await import('vite');
      await build({ root: folder, configFile: join(folder, 'vite.config.js'), logLevel: 'silent' });
      const built = (await Promise.all((await readdir(join(folder, 'dist'))).map((file) => readFile(join(folder, 'dist', file), 'utf8')))).join('\n');
      expect({
        bundled: built.match(/[\w/-]+, bundled into the library/g) ?? [],
        imported: [...built.matchAll(/from\s*["']([^"']+)["']/g)].map((match) => match[1]).sort(),
      }).toEqual({ bundled: [], imported: ['reprise', 'reprise/tanstack-query'] });
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 60_000);

  it("the worker file First use names is the package's reprise/worker", () => {
    expect(readme).toContain(`(\`${pkg.exports['./worker']!.default!.replace(/^\.\//, '')}\`, exported as \`reprise/worker\`)`);
  });
});

describe('the tests the README cites', () => {
  /** The tests' text (the store contract's titles too), quotes made straight and spaces single, as the README writes titles. */
  const tests = readdirSync(join(root, 'test'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.startsWith('fixtures'))
    .map((file) => readFileSync(join(root, 'test', file), 'utf8'))
    .join('\n')
    .replace(/[’‘]/g, "'")
    .replace(/\s+/g, ' ');
  const headings = new Set(lines.filter((line) => line.startsWith('#')).map((line) => line.replace(/^#+ /, '')));

  /** The README without its code blocks. */
  const text = readme.replace(/^```[\s\S]*?^```$/gm, '');

  it('each title the README cites (in italics, … where it is cut) is in a test file, and each file it names exists', () => {
    // Prose only: no code (blocks, inline), no bold.
    const prose = text
      .replace(/`[^`\n]*`/g, '')
      .replace(/\*\*[^*]*\*\*/g, '')
      .replace(/\s+/g, ' ');
    const cited = [...prose.matchAll(/\*([^*]+)\*/g)].map((match) => match[1]!.trim().replace(/[’‘]/g, "'")).filter((title) => !headings.has(title));
    expect(cited.length).toBeGreaterThan(50);
    // "emit / clear: …" cites the cases of one `it.each` title, written with %s.
    const found = (title: string) => title.split('…').filter(Boolean).every((part) => tests.includes(part) || tests.includes(part.replace(/\b\w+(?: \/ \w+)+\b/, '%s')));
    expect(cited.filter((title) => !found(title))).toEqual([]);
    const files = [...new Set([...readme.matchAll(/\b([A-Za-z][\w.]*?)\.test\b(?!\/)/g)].map((match) => match[1]!))].filter((name) => name !== 'reprise');
    const existing = new Set(readdirSync(join(root, 'test'), { recursive: true, encoding: 'utf8' }).map((file) => file.split('/').pop()!.replace(/\.test(-d)?\.ts$/, '')));
    expect(files.filter((name) => !existing.has(name))).toEqual([]);
  });

  it("each of the repository's files and folders the README names exists (build output aside)", () => {
    const paths = [...new Set([...text.matchAll(/(?<![\w/.])(?:src|worker|test|demo|public|\.ci)\/[\w./-]*\w/g)].map((match) => match[0]))];
    expect(paths.length).toBeGreaterThan(10);
    expect(paths.filter((path) => !existsSync(join(root, path)))).toEqual([]);
  });
});
