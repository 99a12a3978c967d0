// The packed tarball's files and types, as an app's tools see them: what it holds, how a resolver
// that reads no `exports` finds its entries, what @arethetypeswrong/cli says of its types, and a TypeScript app (test/fixtures/consumer/types)
// checked with skipLibCheck off under node10, node16, nodenext and bundler resolution. No browser here: these live
// beside the Chromium package tests because they share one `npm pack` and one install.
import { CachedInputFileSystem, ResolverFactory } from 'enhanced-resolve';
import fs, { existsSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { apps, packedTarball, root, run } from './packedConsumers';

let tarball: string;
let folder: string;

beforeAll(async () => {
  tarball = await packedTarball();
  folder = await apps();
}, 240_000);

/** Runs the apps' TypeScript on a tsconfig; its exit code and output. */
async function tsc(project: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(process.execPath, [join(folder, 'node_modules/typescript/bin/tsc'), '-p', project]);
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, output: failed.stdout };
  }
}

describe('the packed tarball', () => {
  it('holds the library, its worker, one bundled .d.ts per entry and the README, and its manifest points at them', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const paths = stdout.trim().split('\n').map((path) => path.replace(/^package\//, ''));
    console.log('the tarball holds', paths);
    expect(paths).toEqual(
      expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/lib/reprise.js', 'dist/lib/reprise.d.ts', 'dist/lib/tanstack-query.js', 'dist/lib/tanstack-query.d.ts']),
    );
    expect(paths.filter((path) => path.startsWith('dist/lib/assets/'))).toEqual(['dist/lib/assets/reprise-worker.js']);
    expect(paths.filter((path) => path.endsWith('.d.ts')).sort()).toEqual(['dist/lib/reprise.d.ts', 'dist/lib/tanstack-query.d.ts', 'dist/lib/worker.d.ts']);
    // Beside dist/lib, the adapter's folder for resolvers that read no `exports` (below); no worker/:
    // only Node build scripts resolve reprise/worker, and Node reads `exports`.
    expect(paths.filter((path) => !path.startsWith('dist/lib/') && !['package.json', 'README.md', 'LICENSE'].includes(path))).toEqual(['tanstack-query/package.json']);
    const manifest = JSON.parse(await readFile(join(folder, 'node_modules/reprise/package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      type: 'module',
      types: './dist/lib/reprise.d.ts',
      exports: {
        // default: for require (Node ≥ 20.19 requires an ES module without top-level await) and CommonJS bundles.
        '.': { types: './dist/lib/reprise.d.ts', import: './dist/lib/reprise.js', default: './dist/lib/reprise.js' },
        './tanstack-query': { types: './dist/lib/tanstack-query.d.ts', import: './dist/lib/tanstack-query.js', default: './dist/lib/tanstack-query.js' },
        // The worker's file, for apps whose bundler emits no worker (esbuild, Rollup): they copy it.
        './worker': { types: './dist/lib/worker.d.ts', default: './dist/lib/assets/reprise-worker.js' },
      },
      // For resolvers that read no `exports` (Parcel 2 by default).
      module: './dist/lib/reprise.js',
      peerDependencies: { '@tanstack/query-core': '>=5.40.0' },
      peerDependenciesMeta: { '@tanstack/query-core': { optional: true } },
    });
    expect(manifest).not.toHaveProperty(['dependencies', '@tanstack/query-core']);
  });

  it('packing leaves nothing in the repository: the adapter folder it adds is gone again', async () => {
    const { stdout } = await run('git', ['status', '--porcelain', '--ignored', '--untracked-files=all', '--', 'tanstack-query'], { cwd: root });
    expect(stdout).toBe('');
    expect(existsSync(join(root, 'tanstack-query'))).toBe(false);
  });

  it('a resolver that reads no exports map (Parcel 2 by default) finds reprise and reprise/tanstack-query by their module fields', async () => {
    // webpack's resolver told to read no `exports` and no conditions, as Parcel 2's default resolver
    // does: `pkg/sub` is the file sub(.js) or the folder sub/ with its own package.json.
    const resolver = ResolverFactory.createResolver({
      fileSystem: new CachedInputFileSystem(fs, 4000),
      useSyncFileSystemCalls: true,
      exportsFields: [],
      conditionNames: [],
      mainFields: ['module', 'main'],
      extensions: ['.js'],
    });
    const resolve = (request: string) => resolver.resolveSync({}, join(folder, 'app'), request);
    const installed = join(folder, 'node_modules/reprise');
    expect(resolve('reprise')).toBe(join(installed, 'dist/lib/reprise.js'));
    expect(resolve('reprise/tanstack-query')).toBe(join(installed, 'dist/lib/tanstack-query.js'));
    const stub = JSON.parse(await readFile(join(installed, 'tanstack-query/package.json'), 'utf8')) as unknown;
    expect(stub).toEqual({
      type: 'module',
      sideEffects: false,
      module: '../dist/lib/tanstack-query.js',
      main: '../dist/lib/tanstack-query.js',
      types: '../dist/lib/tanstack-query.d.ts',
    });
  });

  it('a resolver that reads only main (no exports, no module: the resolve package, browserify) finds reprise as it finds reprise/tanstack-query', async () => {
    // The adapter's folder has a main for such resolvers (prepack writes it); the package's own must lead to the library too.
    const resolver = ResolverFactory.createResolver({
      fileSystem: new CachedInputFileSystem(fs, 4000),
      useSyncFileSystemCalls: true,
      exportsFields: [],
      conditionNames: [],
      mainFields: ['main'],
      extensions: ['.js'],
    });
    const resolve = (request: string) => {
      try {
        return resolver.resolveSync({}, join(folder, 'app'), request);
      } catch (error) {
        return `not found: ${(error as Error).message.split('\n')[0]}`;
      }
    };
    const installed = join(folder, 'node_modules/reprise');
    expect({ reprise: resolve('reprise'), adapter: resolve('reprise/tanstack-query') }).toEqual({
      reprise: join(installed, 'dist/lib/reprise.js'),
      adapter: join(installed, 'dist/lib/tanstack-query.js'),
    });
  });

  it('a CommonJS app requires reprise and reprise/tanstack-query (Node’s require of an ES module) and uses a cache in memory', async () => {
    const script = join(folder, 'requires.cjs');
    await writeFile(
      script,
      `const { createCache } = require('reprise');
const adapter = require('reprise/tanstack-query');
(async () => {
  const cache = await createCache({ worker: false, logger: { error() {}, warn() {}, info() {} } });
  await cache.set('generic', 'k', { a: 1 });
  console.log(JSON.stringify({ read: await cache.get('generic', 'k'), adapter: Object.keys(adapter).sort() }));
  await cache.close();
})();
`,
    );
    const { stdout } = await run(process.execPath, [script]);
    expect(JSON.parse(stdout)).toEqual({ read: { a: 1 }, adapter: ['createPersister', 'createQueryStorage', 'invalidateQueriesOn'] });
  });

  it("the adapter folder's types lead TypeScript to the adapter's declarations, typesVersions or not (node10)", async () => {
    const installed = join(folder, 'node_modules/reprise');
    const resolved = (withoutTypesVersions: boolean) => {
      const host: ts.ModuleResolutionHost = {
        ...ts.sys,
        readFile: (path) => {
          const text = ts.sys.readFile(path);
          if (!withoutTypesVersions || text === undefined || path !== join(installed, 'package.json')) return text;
          const manifest = JSON.parse(text) as Record<string, unknown>;
          delete manifest['typesVersions'];
          return JSON.stringify(manifest);
        },
      };
      const options = { moduleResolution: ts.ModuleResolutionKind.Node10 };
      return ts.resolveModuleName('reprise/tanstack-query', join(folder, 'types/consumer.ts'), options, host).resolvedModule?.resolvedFileName;
    };
    expect(resolved(false)).toBe(join(installed, 'dist/lib/tanstack-query.d.ts'));
    expect(resolved(true)).toBe(join(installed, 'dist/lib/tanstack-query.d.ts'));
  });

  it('@arethetypeswrong/cli finds no problem for node10, node16 (ESM) and bundler resolution (not node16’s CommonJS: require reads the same ES module declarations)', async () => {
    // attw exits non-zero on any problem outside the profile; the JSON says what it resolved.
    const { stdout } = await run(join(root, 'node_modules/.bin/attw'), [tarball, '--profile', 'esm-only', '--format', 'json']);
    const { analysis, problems } = JSON.parse(stdout) as {
      analysis: { entrypoints: Record<string, { resolutions: Record<string, { resolution?: { fileName: string } }> }> };
      problems: Record<string, { resolutionKind?: string }[]>;
    };
    const resolved = (entrypoint: string) =>
      Object.fromEntries(Object.entries(analysis.entrypoints[entrypoint]!.resolutions).map(([kind, { resolution }]) => [kind, resolution?.fileName]));
    console.log('attw resolved', resolved('.'), resolved('./tanstack-query'), resolved('./worker'), 'problems', JSON.stringify(problems));
    expect(Object.keys(analysis.entrypoints).sort()).toEqual(['.', './tanstack-query', './worker']);
    for (const [entrypoint, file] of [
      ['.', 'reprise.d.ts'],
      ['./tanstack-query', 'tanstack-query.d.ts'],
      ['./worker', 'worker.d.ts'],
    ] as const) {
      expect(resolved(entrypoint)['node10']).toBe(`/node_modules/reprise/dist/lib/${file}`);
      expect(resolved(entrypoint)['node16-esm']).toBe(`/node_modules/reprise/dist/lib/${file}`);
      expect(resolved(entrypoint)['bundler']).toBe(`/node_modules/reprise/dist/lib/${file}`);
    }
    // The esm-only profile passes node10's problems too: those count here, only require's do not.
    const counted = Object.values(problems)
      .flat()
      .filter((problem) => problem.resolutionKind !== 'node16-cjs');
    expect(counted).toEqual([]);
  });

  it.each(['node10', 'node16', 'nodenext', 'bundler'])('type-checks a TypeScript app under %s resolution with skipLibCheck off: real types, wrong calls are errors', async (resolution) => {
    const { code, output } = await tsc(join(folder, `types/tsconfig.${resolution}.json`));
    console.log(`tsc (${resolution}) exited ${code}`, output);
    expect({ code, output }).toEqual({ code: 0, output: '' });
  });

  it('that type test fails when the types are `any`', async () => {
    // The same app against a package whose every export is `any`, as Reprise's types were under nodenext.
    const degraded = join(folder, 'types-any');
    await cp(join(folder, 'types'), degraded, { recursive: true });
    const fake = join(degraded, 'node_modules/reprise');
    await mkdir(fake, { recursive: true });
    const exports = { '.': { types: './index.d.ts' }, './tanstack-query': { types: './tanstack-query.d.ts' } };
    await writeFile(join(fake, 'package.json'), JSON.stringify({ name: 'reprise', type: 'module', types: './index.d.ts', exports }));
    const anyModule = (names: string[], types: string[]) =>
      [...names.map((name) => `export declare const ${name}: any;`), ...types.map((name) => `export type ${name} = any;`)].join('\n');
    await writeFile(join(fake, 'index.d.ts'), anyModule(['CacheError', 'createCache', 'createCacheEvent', 'isCacheError', 'SmartCacheConfig'], ['Cache', 'CacheError', 'CacheErrorCode', 'CacheStats']));
    await writeFile(join(fake, 'tanstack-query.d.ts'), anyModule(['createPersister', 'createQueryStorage', 'invalidateQueriesOn'], ['Persister', 'QueryStorage']));
    const { code, output } = await tsc(join(degraded, 'tsconfig.nodenext.json'));
    console.log(`tsc (nodenext, types degraded to any) exited ${code}`, output);
    expect(code).not.toBe(0);
    expect(output).toContain("error TS2578: Unused '@ts-expect-error' directive.");
    expect(output).toMatch(/error TS2344: Type 'false' does not satisfy the constraint 'true'/);
    expect(output).not.toContain('TS2307');
  });
});
