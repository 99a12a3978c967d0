import { answeredByCache, type TrackLookup } from './lookupTrack';

/** `1 track`, `2,000 tracks`. */
export function tracksText(count: number): string {
  return `${count.toLocaleString('en')} ${count === 1 ? 'track' : 'tracks'}`;
}

/** The batch lookup's status line, once its `asked` lookups have settled (`results`: those that did not fail). */
export function describeBatch(asked: number, results: readonly TrackLookup[], elapsedMs: number): string {
  const cached = results.filter(answeredByCache).length;
  const fetched = results.filter(fetchedAny).length;
  const shared = results.length - cached - fetched;
  return (
    `${tracksText(results.length)} in ${Math.round(elapsedMs)} ms: ` +
    `${cached} from the cache alone, ${fetched} fetched` +
    (shared ? `, ${shared} shared another lookup’s fetch` : '') +
    (results.length < asked ? `, ${asked - results.length} failed` : '')
  );
}

/** Whether the lookup asked the file or the API itself for any part (not only waited for another's fetch). */
function fetchedAny({ tags, api, albumYear, cover }: TrackLookup): boolean {
  return [tags.from, api.from, albumYear?.from, cover.from].includes('fetch');
}
