/** How many revisions each millisecond has (see fetchRevision): two read-through writes of one key in one millisecond rarely share one. */
const PER_MS = 2048;

/**
 * The revision of a read-through's write (see StoredEntry.revision), that tells when its fetch took its mark, just before
 * its fetcher was called: negative, as no other write's is, that time (epoch ms, a clock the tabs share) times PER_MS, plus a
 * random part. Without a lock holding two tabs' fetches of a key apart, the one whose fetcher was called later brings the
 * newer value, though the earlier one stored first (see IdbStore's unremoved).
 */
export function fetchRevision(markedAt: number): number {
  return -(markedAt * PER_MS + Math.floor(Math.random() * PER_MS));
}

/** Whether `revision` is the write of a read-through whose mark was taken before `markedAt`. */
export function fetchedBefore(revision: number | null | undefined, markedAt: number): boolean {
  return revision != null && revision < 0 && -revision < markedAt * PER_MS;
}
