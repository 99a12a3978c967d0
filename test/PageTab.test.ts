import { expect, it } from 'vitest';
import { PageTab } from '../src/PageTab';
import { goneId } from '../src/protocol';

it('keeps one id for the page, and where its workers got to in the log: only forward, or to a new database', () => {
  const tab = new PageTab('page', () => 1000);
  expect(tab.open).toEqual({ id: 'page', since: null, listenedAt: 1000, gone: [] });
  tab.heard({ epoch: 'a', seq: 5 });
  // A worker's start reported after the changes it applied since must not move it back.
  tab.heard({ epoch: 'a', seq: 3 });
  expect(tab.open).toEqual({ id: 'page', since: { epoch: 'a', seq: 5 }, listenedAt: 1000, gone: [] });
  // The database was deleted and recreated: its log starts again.
  tab.heard({ epoch: 'b', seq: 1 });
  expect(tab.open.since).toEqual({ epoch: 'b', seq: 1 });
  // A worker told the listeners a change with no place in the log (it had none): no next worker replays since the page listened.
  const unlogged = new PageTab('page', () => 1000);
  unlogged.heard(null);
  expect(unlogged.open).toEqual({ id: 'page', since: null, listenedAt: undefined, gone: [] });
  expect(new PageTab().id).not.toBe(new PageTab().id);
});

it('tells the next worker what its workers last said they keep the persistent types in: the database by the name they gave it, or a memory tier named anew at each word; and the names whose loss it heard', () => {
  const tab = new PageTab('page', () => 1000);
  const callbacks = tab.callbacks(() => undefined, () => {});
  callbacks.storage!('indexeddb', 'db');
  expect(tab.open.kept).toBe('db');
  callbacks.storage!('memory');
  const memory = tab.open.kept;
  callbacks.storage!('memory');
  expect(memory).toEqual(expect.any(String));
  expect(tab.open.kept).not.toBe(memory);
  callbacks.changed([{ type: 'track_metadata', kind: 'clear', keys: null, source: 'remote', id: goneId('db', 'track_metadata') }]);
  expect(tab.open.gone).toEqual(['db']);
});

it("tells the loss of the database the page read itself when its first worker's first word says it keeps the types elsewhere (in memory, or in another database); not when it keeps them there, nor twice", () => {
  const told = (where: 'indexeddb' | 'memory', name: string | null, read: string | string[] | undefined, words = 1) => {
    const heard: unknown[] = [];
    const tab = new PageTab('page', () => 1000);
    tab.readsFrom({ epochs: new Set(typeof read === 'string' ? [read] : read) }, new Map([['track_metadata', true], ['generic', false], ['lyrics', true]]));
    const callbacks = tab.callbacks(() => ({ remoteEvent() {}, progress() {}, forgot() {}, changed: (changes) => void heard.push(...changes) }), () => {});
    for (let word = 0; word < words; word++) callbacks.storage!(where, name);
    return { heard, gone: tab.open.gone };
  };
  const clears = (epoch: string) => ['track_metadata', 'lyrics'].map((type) => ({ type, kind: 'clear', keys: null, source: 'remote', id: goneId(epoch, type) }));
  expect(told('memory', null, 'e1')).toEqual({ heard: clears('e1'), gone: ['e1'] });
  expect(told('indexeddb', 'e2', 'e1')).toEqual({ heard: clears('e1'), gone: ['e1'] });
  expect(told('indexeddb', 'e1', 'e1')).toEqual({ heard: [], gone: [] });
  // A name of that database made of its epoch and a visit's id (see worker/Database's name) is that database.
  expect(told('indexeddb', 'e1x', 'e1')).toEqual({ heard: [], gone: [] });
  // The page read no database (none yet, or one without an epoch).
  expect(told('memory', null, undefined)).toEqual({ heard: [], gone: [] });
  // Only a first word: the next ones are told by the workers (see open's kept).
  expect(told('memory', null, 'e1', 2).heard).toEqual(clears('e1'));
  // The page read one database, deleted since, then opened the one made after it, where the worker is: the first's loss.
  expect(told('indexeddb', 'e2', ['e1', 'e2'])).toEqual({ heard: clears('e1'), gone: ['e1'] });
  expect(told('memory', null, ['e1', 'e2'])).toEqual({ heard: [...clears('e1'), ...clears('e2')], gone: ['e1', 'e2'] });
});
