import type { TypeName } from './contentType';

/**
 * The commit marks (see SetManyOptions.commitId, Once) of this page's changes that have answered: only
 * the page that made a change asks about its mark, and only until it has the answer, so these are asked
 * about no more. The next write or delete of their type carries them, and its transaction deletes them
 * (SetManyOptions.answered): a tab leaves about one mark per type on disk, not one per call for a day
 * (a mark holds the write's keys with their revisions, ~40 bytes a key, which neither stats() nor a budget counts).
 */
export class AnsweredMarks {
  readonly #ids = new Map<TypeName, string[]>();

  /** Runs `change` (marked `id`) with the type's answered marks: gone once it resolves, and its own then answered; kept if it rejects. */
  carry<T>(type: TypeName, id: string, change: (answered: string[] | undefined) => Promise<T>): Promise<T> {
    const ids = this.#ids.get(type);
    this.#ids.delete(type);
    const done = change(ids);
    done.then(
      () => this.#add(type, [id]),
      () => this.#add(type, ids ?? []),
    );
    return done;
  }

  #add(type: TypeName, ids: string[]): void {
    this.#ids.set(type, [...(this.#ids.get(type) ?? []), ...ids]);
  }
}
