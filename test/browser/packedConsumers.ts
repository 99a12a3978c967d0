// The packed library as apps get it. One `npm pack` and one install of the consumer apps
// (test/fixtures/consumer; test/fixtures/react-query has its own) serve every package test of a run;
// they are made on first use, so a run of other browser tests pays nothing. The browser project runs
// its files one at a time, so no two files make them at once.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    packFolder: string;
  }
}

export const run = promisify(execFile);
export const root = new URL('../..', import.meta.url).pathname;
const fixtures = join(root, 'test/fixtures');

/** Global setup: an empty folder for this run's tarball and apps, removed at the end. */
export default async function setup(project: TestProject) {
  const folder = await mkdtemp(join(tmpdir(), 'reprise-packed-'));
  project.provide('packFolder', folder);
  return () => rm(folder, { recursive: true, force: true });
}

/** Builds the library and packs it (once per run); the tarball's path. */
export async function packedTarball(): Promise<string> {
  const folder = inject('packFolder');
  const record = join(folder, 'tarball.txt');
  if (existsSync(record)) return readFile(record, 'utf8');
  // With its scripts, as `npm pack` and `npm publish` run them: prepack builds the library and adds
  // what the tarball holds beside it, postpack takes that away again. Their output may share npm's
  // (foreground-scripts), so the tarball is found in the folder instead of in `--json`'s output.
  await run('npm', ['pack', '--pack-destination', folder], { cwd: root });
  const [filename] = (await readdir(folder)).filter((name) => name.endsWith('.tgz'));
  const tarball = join(folder, filename!);
  await writeFile(record, tarball);
  return tarball;
}

/** The bundler packages of the matrix, as the folder names `apps()` installs them under. */
export type Bundler = 'vite6' | 'vite7' | 'vite8' | 'webpack' | 'esbuild';

/**
 * test/fixtures/consumer with the tarball, TypeScript and every bundler of the matrix installed from
 * npm's cache (once per run), and a copy of its app for each bundler: `<apps>/<bundler>/`. The
 * versions are the project's own (Vite 6 and 7 from their fixture workspaces), which
 * `npm install` in the project has cached; Vite 6 and 7 go in under aliases, as `vite6` and `vite7`.
 */
export async function apps(): Promise<string> {
  const tarball = await packedTarball();
  const folder = join(inject('packFolder'), 'apps');
  if (existsSync(join(folder, 'node_modules'))) return folder;
  await cp(join(fixtures, 'consumer'), folder, { recursive: true });
  const project = await readJson<Manifest>(join(root, 'package.json'));
  const pinned = async (workspace: string) => (await readJson<Manifest>(join(fixtures, workspace, 'package.json'))).devDependencies['vite']!;
  const manifest = await readJson<Manifest>(join(folder, 'package.json'));
  manifest.dependencies = { reprise: `file:${tarball}` };
  manifest.devDependencies = {
    vite6: `npm:vite@${await pinned('vite6')}`,
    vite7: `npm:vite@${await pinned('vite7')}`,
    vite8: `npm:vite@${project.devDependencies['vite']!}`,
    webpack: project.devDependencies['webpack']!,
    esbuild: project.devDependencies['esbuild']!,
    typescript: project.devDependencies['typescript']!,
    // For the types of reprise/tanstack-query (its optional peer).
    '@tanstack/query-core': project.devDependencies['@tanstack/query-core']!,
  };
  await writeFile(join(folder, 'package.json'), JSON.stringify(manifest, null, 2));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: folder });
  for (const bundler of ['vite6', 'vite7', 'vite8', 'webpack', 'esbuild'] satisfies Bundler[]) {
    await cp(join(folder, 'app'), join(folder, bundler), { recursive: true });
  }
  return folder;
}

/**
 * test/fixtures/react-query with the tarball, its React and TanStack packages (the workspace's pins,
 * which `npm install` in the project has cached) and the project's Vite, installed from npm's cache
 * (once per run): `<folder>/react-query/`.
 */
export async function reactQueryApp(): Promise<string> {
  const tarball = await packedTarball();
  const folder = join(inject('packFolder'), 'react-query');
  if (existsSync(join(folder, 'node_modules'))) return folder;
  await cp(join(fixtures, 'react-query'), folder, { recursive: true, filter: (path) => !path.includes('/node_modules') });
  const project = await readJson<Manifest>(join(root, 'package.json'));
  const manifest = await readJson<Manifest>(join(folder, 'package.json'));
  manifest.dependencies = { ...manifest.dependencies, reprise: `file:${tarball}` };
  manifest.devDependencies = { vite: project.devDependencies['vite']! };
  await writeFile(join(folder, 'package.json'), JSON.stringify(manifest, null, 2));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: folder });
  return folder;
}

interface Manifest {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** A port free on 127.0.0.1 now (Vite 6 and 7's dev servers take `port: 0` for their default port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
