// `npm run size` (after `npm run build:lib`): what an app ships for Reprise against Dexie, and what the
// tarball holds. Prints tables and writes them to test-results/; asserts nothing (the Node suite's
// shippedSizes.test.ts does).
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { it } from 'vitest';
import { measureShippedSizes, sizeTable } from './shippedSizes';

const root = new URL('../..', import.meta.url).pathname;

it('measures what an app ships for Reprise and for Dexie', async () => {
  const sizes = await measureShippedSizes({ library: `${root}dist/lib` });
  // The tarball as `npm pack` makes it from the library just built (its scripts would build again).
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
  const [tarball] = JSON.parse(stdout) as [{ size: number; unpackedSize: number; entryCount: number; files: { path: string; size: number }[] }];
  const maps = tarball.files.filter((file) => file.path.endsWith('.map'));
  const lines = [
    ...sizeTable(sizes),
    '',
    `Tarball: ${(tarball.size / 1000).toFixed(1)} kB packed, ${(tarball.unpackedSize / 1000).toFixed(1)} kB unpacked, ${tarball.entryCount} files` +
      ` (${maps.length} source maps, ${(maps.reduce((total, file) => total + file.size, 0) / 1000).toFixed(1)} kB).`,
  ];
  console.log(`\n${lines.join('\n')}\n`);
  await mkdir(`${root}test-results`, { recursive: true });
  await writeFile(`${root}test-results/size-latest.json`, JSON.stringify({ ...sizes, tarball: { size: tarball.size, unpackedSize: tarball.unpackedSize } }, null, 2));
  await writeFile(`${root}test-results/size-latest.md`, `${lines.join('\n')}\n`);
}, 120_000);
