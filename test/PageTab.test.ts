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

it('tells a worker that asks the databases the page read itself, in the order opened: those opened before a worker first said where it keeps the types (in memory, the page reads none after), but those whose loss it heard', () => {
  const tab = new PageTab('page', () => 1000);
  const epochs = new Set(['e1']);
  tab.readsFrom({ epochs });
  const callbacks = tab.callbacks(() => undefined, () => {});
  expect(callbacks.readFrom!()).toEqual(['e1']);
  epochs.add('e2');
  expect(callbacks.readFrom!()).toEqual(['e1', 'e2']);
  callbacks.storage!('memory');
  epochs.add('e3');
  expect(callbacks.readFrom!()).toEqual(['e1', 'e2']);
  callbacks.changed([{ type: 'track_metadata', kind: 'clear', keys: null, source: 'remote', id: goneId('e1', 'track_metadata') }]);
  expect(callbacks.readFrom!()).toEqual(['e2']);
  // A page that reads nothing itself (no IndexedDB, or the engine in process) names none.
  expect(new PageTab().callbacks(() => undefined, () => {}).readFrom!()).toEqual([]);
});
