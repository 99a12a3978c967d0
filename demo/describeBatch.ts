import { answeredByCache, type TrackLookup } from './lookupTrack';

/** `1 track`, `2,000 tracks`. */
export function tracksText(count: number): string {
  return `${count.toLocaleString('en')} ${count === 1 ? 'track' : 'tracks'}`;
}

/** The batch lookup's status line, once its `asked` lookups have settled (`results`: those that did not fail). */
export function describeBatch(asked: number, results: readonly TrackLookup[], elapsedMs: number): string {
  const cached = results.filter(answeredByCache).length;
  return (
    `${tracksText(results.length)} in ${Math.round(elapsedMs)} ms: ` +
    `${cached} from the cache alone, ${results.length - cached} fetched` +
    (results.length < asked ? `, ${asked - results.length} failed` : '')
  );
}
