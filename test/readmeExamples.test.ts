// The README's code, as a user copies it: every TypeScript and JavaScript block type-checks on its own
// (strict) against the library's public entries, `reprise` and `reprise/tanstack-query` resolved to
// their sources; and the TypeScript blocks of Using it (the tour, Reading through, the model, your
// own content types) run here, in-process on fake-indexeddb, and return what their `// → …` comments say.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { moduleScripts, readmeBlocks, type ReadmeBlock } from './support/readmeBlocks';
import { STRICTEST, typeErrors } from './support/readmeTypes';

const root = fileURLToPath(new URL('..', import.meta.url));
const blocks = readmeBlocks();
/** The TanStack Query section's blocks (React, JSX) are its own: test/fixtures/react-query runs that code. */
const ours = blocks.filter((block) => block.section !== 'TanStack Query');

/**
 * What the examples take from the app around them: its own API client, data and UI. Nothing of the
 * library is declared here: a block that uses a name of it imports that name.
 */
const APP_CONTEXT = `
declare const api: { lookup(id: string): Promise<{ title: string; artist: string }> };
declare const tracks: { id: string; title: string }[];
declare const ids: string[];
declare const id: string;
declare const trackId: string;
declare const artist: string;
declare const album: string;
declare const progressBar: { update(fraction: number): void };
declare function fetchYear(): Promise<{ year: number }>;
declare function fetchCover(artist: string, album: string): Promise<Blob>;
declare function rerender(kind: string, source: string): void;
declare function startApp(cache: import('reprise').Cache): void;
declare function showError(error: unknown): void;
`;

describe('README examples, type-checked', () => {
  it('every TypeScript block outside the TanStack Query section type-checks on its own (strict) against the public entries', () => {
    const examples = ours.filter((block) => block.lang === 'ts');
    expect(examples.length).toBeGreaterThanOrEqual(5);
    expect(typeErrors(examples, 'ts', APP_CONTEXT)).toEqual([]);
  }, 60_000);

  it("and under an app's strictest tsconfig (exactOptionalPropertyTypes, noUncheckedIndexedAccess, verbatimModuleSyntax…)", () => {
    const examples = ours.filter((block) => block.lang === 'ts');
    expect(typeErrors(examples, 'ts', APP_CONTEXT, STRICTEST)).toEqual([]);
  }, 60_000);

  it("every JavaScript block outside the TanStack Query section, and the HTML's module scripts, type-check as checkJs checks them", () => {
    const examples = [...ours.filter((block) => block.lang === 'js'), ...ours.filter((block) => block.lang === 'html').flatMap(moduleScripts)];
    expect(examples.length).toBeGreaterThanOrEqual(6);
    expect(typeErrors(examples, 'js', APP_CONTEXT)).toEqual([]);
  }, 60_000);

  it('a block that does not compile fails with its README line', () => {
    const broken = { lang: 'ts', line: 100, section: 'Using it', code: "import { createCache } from 'reprise';\n\nawait createCache({ nmae: 'x' });" };
    expect(typeErrors([broken], 'ts')).toEqual([expect.stringMatching(/^README line 102: Object literal may only specify known properties/)]);
    const wrongType = { ...broken, code: "import { createCache } from 'reprise';\nconst cache = await createCache();\n//    ^ string" };
    expect(typeErrors([wrongType], 'ts')).toEqual([expect.stringMatching(/^README line 102: Type 'true' is not assignable to type 'false'/)]);
  }, 60_000);
});

/** What a block's comment says a statement gives: `expr; // → value` (or `// → value` on the line under a one-line statement), or `expr; // true`. */
interface Claim {
  /** The README line of the comment. */
  line: number;
  text: string;
  actual?: unknown;
}

const LITERAL = /^(?:"[^"]*"|'[^']*'|true|false|-?\d[\d_.]*)$/;

/**
 * The block with each claimed statement rewritten to hand its value to `__claim` (on its own line, so
 * that errors keep their README line), and its imports pointing at the sources.
 */
function runnable(block: ReadmeBlock): { code: string; claims: Claim[] } {
  const claims: Claim[] = [];
  const lines = block.code.split('\n');
  const claim = (at: number, statement: string, text: string, line: number) => {
    const expression = /^(\s*)(await )?(.+?);\s*$/.exec(statement);
    if (!expression) throw new Error(`README line ${line}: the claim "${text}" follows no one-line statement`);
    claims.push({ line, text });
    lines[at] = `${expression[1]}__claim(${claims.length - 1}, ${expression[2] ?? ''}(${expression[3]}));`;
  };
  lines.forEach((line, at) => {
    const arrow = /^(.*?)\/\/ → (.+)$/.exec(line);
    const trailing = /^(.*;)\s*\/\/ (.+)$/.exec(line);
    if (arrow && arrow[1]!.trim() === '') claim(at - 1, lines[at - 1]!, arrow[2]!, block.line + at);
    else if (arrow) claim(at, arrow[1]!, arrow[2]!, block.line + at);
    else if (trailing && LITERAL.test(trailing[2]!.trim())) claim(at, trailing[1]!, trailing[2]!.trim(), block.line + at);
  });
  const code = lines
    .join('\n')
    .replaceAll("from 'reprise'", `from '${join(root, 'src/index.ts')}'`)
    .replaceAll("from 'zod'", `from '${join(root, 'node_modules/zod/index.js')}'`);
  // The harness closes the block's cache once it has run (a block that closes it itself shows that).
  return { code: /^const cache = /m.test(code) ? `${code}\nexport { cache };` : code, claims };
}

/** Whether a claim's text says what the statement gave: a literal equal to it, or `{ a, b }` naming its fields. */
function claimHolds(claim: Claim): boolean {
  // What follows `; ` or ` (` is prose: `// → { expired, evicted }; also runs…`, `// → 2 (how many…)`.
  const text = claim.text.split(/;\s| \(/)[0]!.trim();
  const fields = /^\{\s*(\w+(?:\s*,\s*\w+)*)\s*\}$/.exec(text);
  if (fields) return JSON.stringify(Object.keys(claim.actual as object).sort()) === JSON.stringify(fields[1]!.split(/\s*,\s*/).sort());
  let expected: unknown;
  try {
    expected = new Function(`return (${text});`)();
  } catch {
    throw new Error(`README line ${claim.line}: "${claim.text}" is not a value this test can read`);
  }
  try {
    expect(claim.actual).toEqual(expected);
    return true;
  } catch {
    return false;
  }
}

/** The app around the examples (see APP_CONTEXT), and a fresh IndexedDB. */
function stubApp(): void {
  const app = {
    indexedDB: new IDBFactory(),
    api: { lookup: async (id: string) => ({ title: `Song ${id}`, artist: 'Artist' }) },
    tracks: [
      { id: 't1', title: 'One' },
      { id: 't2', title: 'Two' },
    ],
    ids: ['t1', 'missing', 't2'],
    id: 't1',
    trackId: 't1',
    artist: 'ABBA',
    album: 'Gold',
    progressBar: { update: vi.fn() },
    fetchYear: async () => ({ year: 1992 }),
    fetchCover: async () => new Blob(['png']),
    rerender: vi.fn(),
    fetch: async () => new Response(JSON.stringify({ title: 'Song' }), { headers: { 'content-type': 'application/json' } }),
  };
  for (const [name, value] of Object.entries(app)) vi.stubGlobal(name, value);
}

/** Runs a block as a module of its own; returns its claims with what each statement gave. */
async function run(block: ReadmeBlock): Promise<Claim[]> {
  const { code, claims } = runnable(block);
  vi.stubGlobal('__claim', (index: number, actual: unknown) => {
    claims[index]!.actual = actual;
  });
  const dir = await mkdtemp(join(tmpdir(), 'reprise-readme-'));
  const file = join(dir, `line-${block.line}.ts`);
  try {
    await writeFile(file, code);
    const module = (await import(/* @vite-ignore */ file)) as { cache?: { close(): Promise<void> } };
    await module.cache?.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return claims;
}

const failed = (claims: Claim[]) => claims.filter((claim) => !claimHolds(claim)).map((claim) => `README line ${claim.line}: says ${claim.text}, got ${JSON.stringify(claim.actual)}`);

describe('README examples, run', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });
  const inSection = (heading: string) => {
    const found = ours.filter((block) => block.lang === 'ts' && block.section === heading);
    expect(found.length, heading).toBeGreaterThan(0);
    return found;
  };
  const using = () => inSection('Using it');

  it('"Using it" returns what its comments say, and its listener prints the event', async () => {
    stubApp();
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const [tour] = using();
    const claims = await run(tour!);
    expect(claims.length).toBeGreaterThanOrEqual(3);
    expect(failed(claims)).toEqual([]);
    const emitted = claims.find((claim) => claim.text.includes('track_modified'))!.actual as { invalidated: unknown };
    expect(log).toHaveBeenCalledWith('local', 'track_modified', emitted.invalidated);
  });

  it('each of the other TypeScript blocks of "Using it" runs and returns what its comments say', async () => {
    const [, ...rest] = using();
    expect(rest.length).toBeGreaterThanOrEqual(3);
    const failures: string[] = [];
    for (const block of rest) {
      stubApp();
      failures.push(...failed(await run(block)));
      vi.unstubAllGlobals();
    }
    expect(failures).toEqual([]);
  });
});
