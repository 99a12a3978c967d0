import { describeError } from './describeError';
import { answeredByCache, fetchedAny, type TrackLookup } from './lookupTrack';

/** `1 track`, `2,000 tracks`. */
export function tracksText(count: number): string {
  return `${count.toLocaleString('en')} ${count === 1 ? 'track' : 'tracks'}`;
}

/** The batch lookup's status line, once its `asked` lookups have settled (`results`: those that did not fail; `failure`: the first failure's error). */
export function describeBatch(asked: number, results: readonly TrackLookup[], elapsedMs: number, failure?: unknown): string {
  const cached = results.filter(answeredByCache).length;
  const fetched = results.filter(fetchedAny).length;
  const shared = results.length - cached - fetched;
  return (
    `${tracksText(results.length)} in ${Math.round(elapsedMs)} ms: ` +
    `${cached} from the cache alone, ${fetched} fetched` +
    (shared ? `, ${shared} shared another lookup’s fetch` : '') +
    (results.length < asked ? `, ${asked - results.length} failed${failure === undefined ? '' : ` (${describeError(failure)})`}` : '')
  );
}
