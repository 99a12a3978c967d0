// The README's code, as a user copies it: every TypeScript and JavaScript block type-checks on its own
// (strict) against the library's public entries, `reprise` and `reprise/tanstack-query` resolved to
// their sources.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { moduleScripts, readmeBlocks, type ReadmeBlock } from './support/readmeBlocks';

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

/**
 * A line `//    ^ T` under `const name = …` says the type of `name` is T: it becomes a check that the
 * two types are the same, on the comment's own line.
 */
function withTypeClaims(code: string): string {
  const lines = code.split('\n');
  return lines
    .map((line, index) => {
      const claim = /^\s*\/\/\s+\^ (.+)$/.exec(line);
      const name = claim && /^\s*const (\w+)\b/.exec(lines[index - 1] ?? '')?.[1];
      return claim && name ? `const _${name}Is: Same<typeof ${name}, ${claim[1]}> = true;` : line;
    })
    .join('\n');
}

const SAME = 'type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;';

/**
 * Type-checks the blocks as files of an app beside the repository's node_modules; returns the errors,
 * each with its README line. JavaScript is checked as `checkJs` checks it, strict but for implicit
 * `any`, a TypeScript notion that a JavaScript user never meets.
 */
function typeErrors(examples: ReadmeBlock[], lang: 'ts' | 'js'): string[] {
  const dir = join(root, 'test', 'readme-examples');
  const files = new Map(examples.map((example) => [join(dir, `line-${example.line}.${lang}`), example]));
  const contextFile = join(dir, 'app-context.d.ts');
  const context = lang === 'ts' ? `${APP_CONTEXT}${SAME}\n` : APP_CONTEXT;
  const texts = new Map([[contextFile, context], ...[...files].map(([file, example]) => [file, lang === 'ts' ? withTypeClaims(example.code) : example.code] as const)]);
  const options: ts.CompilerOptions = {
    strict: true,
    noImplicitAny: lang === 'ts',
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    // Each block is a module of its own, as a bundler takes every file.
    moduleDetection: ts.ModuleDetectionKind.Force,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts', 'lib.esnext.disposable.d.ts'],
    types: ['node'],
    allowJs: true,
    checkJs: true,
    skipLibCheck: true,
    noEmit: true,
    paths: { reprise: [join(root, 'src/index.ts')], 'reprise/tanstack-query': [join(root, 'src/tanstack-query/index.ts')] },
  };
  const host = ts.createCompilerHost(options);
  const { readFile, fileExists, getSourceFile } = host;
  host.readFile = (file) => texts.get(file) ?? readFile.call(host, file);
  host.fileExists = (file) => texts.has(file) || fileExists.call(host, file);
  host.getSourceFile = (file, language, onError) => {
    const text = texts.get(file);
    return text === undefined ? getSourceFile.call(host, file, language, onError) : ts.createSourceFile(file, text, language, true);
  };
  const program = ts.createProgram([...texts.keys()], options, host);
  const errors: string[] = [];
  for (const [file, example] of files) {
    const source = program.getSourceFile(file)!;
    for (const diagnostic of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const { line } = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      errors.push(`README line ${example.line + line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
    }
  }
  const others = [...program.getSemanticDiagnostics(program.getSourceFile(contextFile)), ...program.getGlobalDiagnostics()];
  return [...errors, ...others.map((diagnostic) => `app context: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`)];
}

describe('README examples, type-checked', () => {
  it('every TypeScript block outside the TanStack Query section type-checks on its own (strict) against the public entries', () => {
    const examples = ours.filter((block) => block.lang === 'ts');
    expect(examples.length).toBeGreaterThanOrEqual(5);
    expect(typeErrors(examples, 'ts')).toEqual([]);
  }, 60_000);

  it("every JavaScript block outside the TanStack Query section, and the HTML's module scripts, type-check as checkJs checks them", () => {
    const examples = [...ours.filter((block) => block.lang === 'js'), ...ours.filter((block) => block.lang === 'html').flatMap(moduleScripts)];
    expect(examples.length).toBeGreaterThanOrEqual(6);
    expect(typeErrors(examples, 'js')).toEqual([]);
  }, 60_000);

  it('a block that does not compile fails with its README line', () => {
    const broken = { lang: 'ts', line: 100, section: 'Using it', code: "import { createCache } from 'reprise';\n\nawait createCache({ nmae: 'x' });" };
    expect(typeErrors([broken], 'ts')).toEqual([expect.stringMatching(/^README line 102: Object literal may only specify known properties/)]);
    const wrongType = { ...broken, code: "import { createCache } from 'reprise';\nconst cache = await createCache();\n//    ^ string" };
    expect(typeErrors([wrongType], 'ts')).toEqual([expect.stringMatching(/^README line 102: Type 'true' is not assignable to type 'false'/)]);
  }, 60_000);
});
