import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { ReadmeBlock } from './readmeBlocks';

const root = fileURLToPath(new URL('../..', import.meta.url));

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

/** `Same<A, B>`: true when the two types are the same. */
const SAME = 'type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;';

/** The flags of an app with the strictest tsconfig, beyond `strict`. */
export const STRICTEST: ts.CompilerOptions = {
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noPropertyAccessFromIndexSignature: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
};

/**
 * Type-checks the blocks as files of an app beside the repository's node_modules; returns the errors,
 * each with its README line. JavaScript is checked as `checkJs` checks it, strict but for implicit
 * `any`, a TypeScript notion that a JavaScript user never meets. `flags`: an app's stricter tsconfig
 * (exactOptionalPropertyTypes…), on top of those.
 */
export function typeErrors(examples: readonly ReadmeBlock[], lang: 'ts' | 'js', appContext = '', flags: ts.CompilerOptions = {}): string[] {
  const dir = join(root, 'test', 'readme-examples');
  const files = new Map(examples.map((example, index) => [join(dir, `${index}-line-${example.line}.${lang}`), example]));
  const contextFile = join(dir, 'app-context.d.ts');
  const context = lang === 'ts' ? `${appContext}${SAME}\n` : appContext;
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
    ...flags,
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
