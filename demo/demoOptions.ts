/** The API's latency range, in milliseconds. */
export interface Latency {
  min: number;
  max: number;
}

export interface DemoOptions {
  /** The cache's name: its IndexedDB database and BroadcastChannel. Tabs with one name see each other. */
  name: string;
  /** Seeds the generated library and the simulated API's answers. */
  seed: number;
  /** How many tracks the library has. */
  tracks: number;
  latency: Latency;
}

export const DEFAULT_DEMO_OPTIONS: DemoOptions = {
  name: 'reprise-demo',
  seed: 1,
  tracks: 2000,
  latency: { min: 50, max: 300 },
};

const MAX_TRACKS = 100_000;

/**
 * The demo's options from its URL's query string; a missing or malformed parameter keeps its default:
 * - `name=…`      cache name (default `reprise-demo`), e.g. a fresh one per test;
 * - `seed=N`      library and API seed, a non-negative integer (default 1);
 * - `tracks=N`    library size, 1 to 100000 (default 2000);
 * - `latency=N`   a fixed API latency in ms (`latency=0` answers at once, for tests),
 *   `latency=A-B` a range (default 50-300; each track or album keeps its own latency within it).
 */
export function readDemoOptions(search: string): DemoOptions {
  const params = new URLSearchParams(search);
  const defaults = DEFAULT_DEMO_OPTIONS;
  const name = params.get('name')?.trim();
  const seed = integer(params.get('seed'), 0, 2 ** 32 - 1);
  const tracks = integer(params.get('tracks'), 1, MAX_TRACKS);
  return {
    name: name || defaults.name,
    seed: seed ?? defaults.seed,
    tracks: tracks ?? defaults.tracks,
    latency: latency(params.get('latency')) ?? defaults.latency,
  };
}

function integer(text: string | null, min: number, max: number): number | undefined {
  if (text === null || !/^\d+$/.test(text.trim())) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}

function latency(text: string | null): Latency | undefined {
  const match = text?.trim().match(/^(\d+)(?:-(\d+))?$/);
  if (!match) return undefined;
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  return max >= min && max <= 60_000 ? { min, max } : undefined;
}

/** The latency as the page states it: `50–300 ms`, `5 ms`, or `no delay` for 0. */
export function describeLatency({ min, max }: Latency): string {
  if (max === 0) return 'no delay';
  return min === max ? `${min} ms` : `${min}–${max} ms`;
}
