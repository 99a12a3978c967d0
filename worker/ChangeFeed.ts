import type { CacheChange, ChangeKind } from '../src/Cache';
import type { ToldChange } from '../src/protocol';
import type { TypeName } from '../src/contentType';
import { MAX_CHANGE_KEYS } from '../src/TabChannel';
import type { Schedule } from './schedule';

/** A change as tabs tell each other (more keys than MAX_CHANGE_KEYS become "any key": a bulk write stays one small message); the receiving tab adds `source`. */
export type SharedCacheChange = Omit<ToldChange, 'source'>;


export interface ChangeFeedOptions {
  /** To this tab's watchers. */
  deliver: (changes: ToldChange[]) => void;
  /** To the other tabs' watchers: changes of shared data only. */
  broadcast: (changes: SharedCacheChange[]) => void;
  schedule: Schedule;
}

interface Pending {
  type: TypeName;
  kind: ChangeKind;
  source: CacheChange['source'];
  shared: boolean;
  keys: Set<string> | null;
  id: string | undefined;
}

/**
 * Collects the changes of one task and hands them on together: one call to the page, one message to
 * the other tabs, in the order they happened, with the keys of a run of changes of one type and kind
 * merged (and "any key" past MAX_CHANGE_KEYS). Only a run: a set, a delete and a set of one key stay
 * three changes, so that the last one a watcher hears is the last one made.
 */
export class ChangeFeed {
  readonly #options: ChangeFeedOptions;
  #pending: Pending[] = [];
  #scheduled = false;

  constructor(options: ChangeFeedOptions) {
    this.#options = options;
  }

  /** `keys` null: any key of the type. `shared`: the change is in data every tab reads (IndexedDB). `id`: see ToldChange. */
  add(type: TypeName, kind: ChangeKind, keys: Iterable<string> | null, source: CacheChange['source'], shared: boolean, id?: string): void {
    const last = this.#pending.at(-1);
    const same = last && last.type === type && last.kind === kind && last.source === source && last.shared === shared && last.id === id;
    const pending = same ? last : { type, kind, source, shared, keys: new Set<string>(), id };
    if (!same) this.#pending.push(pending);
    if (keys === null) pending.keys = null;
    else if (pending.keys) for (const key of keys) pending.keys.add(key);
    if (pending.keys && pending.keys.size > MAX_CHANGE_KEYS) pending.keys = null;
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#options.schedule(() => this.flush(), 0);
    }
  }

  flush(): void {
    this.#scheduled = false;
    if (!this.#pending.length) return;
    const pending = this.#pending;
    this.#pending = [];
    const told = ({ type, kind, keys, id }: Pending): SharedCacheChange => ({ type, kind, keys: keys && [...keys].sort(), ...(id && { id }) });
    this.#options.deliver(pending.map((change) => ({ ...told(change), source: change.source })));
    const shared = pending.filter((change) => change.shared && change.source === 'local');
    if (shared.length) this.#options.broadcast(shared.map(told));
  }
}
