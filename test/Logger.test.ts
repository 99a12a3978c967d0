// The app's logger is the app's code: an async one may reject, a sync one may throw. Reprise reports
// through it and must go on as if it had been heard: no unhandled rejection, no call broken by it.
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { openCache } from './support/openCache';

const unhandled: unknown[] = [];
const record = (reason: unknown) => void unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', record);
});
afterEach(() => void process.off('unhandledRejection', record));

/** Until the rejections left unhandled so far have been told (Node tells them once microtasks have run). */
const settled = () => new Promise((resolve) => setImmediate(resolve));

/** A logger's error method, and the messages it was given. (Not a vi.fn: a spy handles the promises its function returns.) */
function failing(how: 'rejects' | 'throws') {
  const messages: string[] = [];
  const error = (message: string) => {
    messages.push(message);
    if (how === 'throws') throw new Error('the log server is down');
    return Promise.reject(new Error('the log server is down'));
  };
  return { error, messages };
}

const loggers = {
  'an async logger that rejects': () => failing('rejects'),
  'a logger that throws': () => failing('throws'),
};

it.each(Object.keys(loggers) as (keyof typeof loggers)[])('%s: a listener or an onProgress that fails is reported, and the call resolves, nothing left unhandled', async (kind) => {
  const { error, messages } = loggers[kind]();
  const { cache } = await openCache({ logger: { error } });
  cache.on('track_removed', () => {
    throw new Error('listener');
  });
  cache.on('track_removed', async () => Promise.reject(new Error('async listener')));
  const progress = vi.fn(() => {
    throw new Error('progress');
  });
  await cache.setMany('track_metadata', [{ key: 'k', value: 1, trackId: 't1' }], { onProgress: progress });
  expect(await cache.emit({ eventType: 'track_removed', trackId: 't1' })).toMatchObject({ invalidated: { track_metadata: 1 } });
  await settled();
  expect(unhandled).toEqual([]);
  expect(messages).toEqual(expect.arrayContaining(['Reprise: onProgress failed', 'Reprise: a handler for track_removed failed']));
  await cache.close();
});

it.each(Object.keys(loggers) as (keyof typeof loggers)[])('%s: a background refresh that fails is reported, nothing left unhandled', async (kind) => {
  const { error, messages } = loggers[kind]();
  const { cache, clock } = await openCache({ logger: { error }, config: { caching: { policies: { generic: { staleWhileRevalidateSeconds: 60 } } } } });
  await cache.set('generic', 'k', 'old', { ttlSeconds: 10 });
  clock.advance(15_000);
  const fetcher = vi.fn(async () => Promise.reject(new Error('API down')));
  expect(await cache.resolve('generic', 'k', fetcher)).toEqual({ value: 'old', source: 'stale' });
  await vi.waitFor(() => expect(messages).toContainEqual(expect.stringContaining('refreshing the stale generic')));
  await settled();
  expect(unhandled).toEqual([]);
  await cache.close();
});
