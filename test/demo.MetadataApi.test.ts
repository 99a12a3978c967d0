import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateLibrary } from '../demo/generateLibrary';
import { ApiLookupError, MetadataApi } from '../demo/MetadataApi';

const tracks = generateLibrary({ seed: 1, count: 2000 });

afterEach(() => {
  vi.useRealTimers();
});

describe('MetadataApi', () => {
  it('answers each track the same way every time, for one seed', async () => {
    const api = new MetadataApi({ seed: 1, latency: { min: 0, max: 0 } });
    const again = new MetadataApi({ seed: 1, latency: { min: 0, max: 0 } });
    for (const track of tracks.slice(0, 50)) {
      expect(again.outcome(track.id)).toBe(api.outcome(track.id));
      const answer = await api.lookup(track).catch((error: unknown) => error);
      const second = await again.lookup(track).catch((error: unknown) => error);
      expect(second).toEqual(answer);
      if (api.outcome(track.id) === 'found') expect(answer).toMatchObject({ trackId: track.id });
      else expect(answer).toMatchObject({ name: 'ApiLookupError', kind: api.outcome(track.id) });
    }
    expect(await api.albumYear('A', 'B')).toBe(await again.albumYear('A', 'B'));
  });

  it('mostly finds tracks, and sometimes finds nothing or fails', () => {
    const api = new MetadataApi({ seed: 1, latency: { min: 0, max: 0 } });
    const counts = { found: 0, not_found: 0, error: 0 };
    for (const track of tracks) counts[api.outcome(track.id)]++;
    expect(counts.found / tracks.length).toBeCloseTo(0.78, 1);
    expect(counts.not_found / tracks.length).toBeCloseTo(0.12, 1);
    expect(counts.error / tracks.length).toBeCloseTo(0.1, 1);
  });

  it('answers 404 for not found and an HTTP error for failures', async () => {
    const api = new MetadataApi({ seed: 1, latency: { min: 0, max: 0 } });
    const notFound = tracks.find((track) => api.outcome(track.id) === 'not_found')!;
    const failing = tracks.find((track) => api.outcome(track.id) === 'error')!;
    const [a, b] = await Promise.all([api.lookup(notFound).catch((error: unknown) => error), api.lookup(failing).catch((error: unknown) => error)]);
    expect(a).toBeInstanceOf(ApiLookupError);
    expect(a).toMatchObject({ kind: 'not_found', status: 404 });
    expect(b).toMatchObject({ kind: 'error', status: expect.any(Number), message: expect.stringMatching(/^\d{3} /) });
    expect(api.calls).toBe(2);
  });

  it('takes its latency within the range', async () => {
    vi.useFakeTimers();
    const api = new MetadataApi({ seed: 1, latency: { min: 50, max: 300 } });
    const track = tracks.find((candidate) => api.outcome(candidate.id) === 'found')!;
    let answered = false;
    void api.lookup(track).then(() => (answered = true));
    await vi.advanceTimersByTimeAsync(49);
    expect(answered).toBe(false);
    await vi.advanceTimersByTimeAsync(251);
    expect(answered).toBe(true);
  });
});
