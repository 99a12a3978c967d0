import { describe, expect, it } from 'vitest';
import type { CacheChange } from '../src/Cache';
import { MAX_CHANGE_KEYS } from '../src/TabChannel';
import { ChangeFeed, type SharedCacheChange } from '../worker/ChangeFeed';

/** A feed whose task ends when the test says (flush), with what it delivered and broadcast. */
function feed() {
  const delivered: CacheChange[][] = [];
  const broadcast: SharedCacheChange[][] = [];
  let due: (() => void) | undefined;
  const changes = new ChangeFeed({
    deliver: (changes) => void delivered.push(changes),
    broadcast: (changes) => void broadcast.push(changes),
    schedule: (run) => void (due = run),
  });
  return { changes, delivered, broadcast, endTask: () => due?.() };
}

describe('ChangeFeed', () => {
  it('hands a task’s changes on together, a run of one type and kind merged into one change', () => {
    const { changes, delivered, broadcast, endTask } = feed();
    changes.add('album_year', 'set', ['b'], 'local', true);
    changes.add('album_year', 'set', ['a', 'b'], 'local', true);
    changes.add('generic', 'set', ['g'], 'local', false);
    endTask();
    expect(delivered).toEqual([
      [
        { type: 'album_year', kind: 'set', source: 'local', keys: ['a', 'b'] },
        { type: 'generic', kind: 'set', source: 'local', keys: ['g'] },
      ],
    ]);
    // Only shared data (IndexedDB) goes to the other tabs.
    expect(broadcast).toEqual([[{ type: 'album_year', kind: 'set', keys: ['a', 'b'] }]]);
  });

  it('keeps the order changes of one key were made in: the last a watcher hears is the last made', () => {
    const { changes, delivered, endTask } = feed();
    changes.add('generic', 'set', ['k'], 'local', false);
    changes.add('generic', 'delete', ['k'], 'local', false);
    changes.add('generic', 'set', ['k'], 'local', false);
    endTask();
    expect(delivered[0]!.map(({ kind }) => kind)).toEqual(['set', 'delete', 'set']);
  });

  it('names any key past MAX_CHANGE_KEYS', () => {
    const { changes, delivered, endTask } = feed();
    changes.add('generic', 'set', Array.from({ length: MAX_CHANGE_KEYS + 1 }, (_, index) => `k${index}`), 'local', false);
    changes.add('generic', 'set', ['one more'], 'local', false);
    endTask();
    expect(delivered).toEqual([[{ type: 'generic', kind: 'set', source: 'local', keys: null }]]);
  });
});
