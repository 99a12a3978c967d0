// Parcel 2's scope hoisting breaks `import { z } from 'zod/mini'` in a production build (a TypeError
// as the app loads, before createCache runs: parcel-bundler/parcel#10175) and not
// `import * as z from 'zod/mini'`. The library imports Zod only the second way, so an app built by
// a plain `parcel build` works (checked by hand with Parcel 2.16.4, which is not in npm test).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

it('the library imports Zod as a namespace only (`import * as z`), the form Parcel 2 bundles correctly', async () => {
  const files = (await Promise.all(['src', 'worker'].map(async (folder) => (await readdir(join(root, folder), { recursive: true })).map((file) => join(folder, file))))).flat();
  const imports: string[] = [];
  for (const file of files.filter((path) => path.endsWith('.ts'))) {
    const code = await readFile(join(root, file), 'utf8');
    for (const [statement] of code.matchAll(/^import\s[^;]*?from\s+'zod(?:\/[^']*)?';/gm)) imports.push(`${file}: ${statement}`);
  }
  expect(imports.length).toBeGreaterThan(0);
  // (Type-only imports leave nothing in the bundle.)
  expect(imports.filter((line) => !/: import (?:type |\* as \w+ from )/.test(line))).toEqual([]);
});

// Parcel 2 keeps a whole nested namespace that code reaches through Zod's (`z.core.util.x` kept all
// of `z.core`: its locales and JSON Schema, ~270 kB minified, in an app's bundle, checked by hand with
// Parcel 2.16.4), where Vite, webpack and Rollup keep only `x`. At run time the library uses Zod's own
// exports only (`z.object`, …); types (`z.core.$ZodIssue`) leave nothing in the bundle.
it('the library reaches none of Zod’s nested namespaces (core, locales, iso, coerce) at run time', async () => {
  const files = (await Promise.all(['src', 'worker'].map(async (folder) => (await readdir(join(root, folder), { recursive: true })).map((file) => join(folder, file))))).flat();
  const uses: string[] = [];
  for (const file of files.filter((path) => path.endsWith('.ts'))) {
    // Comments may name them.
    const code = (await readFile(join(root, file), 'utf8')).replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
    for (const [, name] of code.matchAll(/^import \* as (\w+) from 'zod(?:\/[^']*)?';/gm)) {
      for (const [use] of code.matchAll(new RegExp(`\\b${name}\\.(?:core|locales|iso|coerce)\\.(?!\\$)\\w+`, 'g'))) uses.push(`${file}: ${use}`);
    }
  }
  expect(uses).toEqual([]);
});
