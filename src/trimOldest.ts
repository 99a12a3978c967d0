/** Keeps a Set or Map (oldest first, as inserted) to at most `max` items: the oldest one over goes. */
export function trimOldest(kept: Set<unknown> | Map<unknown, unknown>, max: number): void {
  if (kept.size > max) kept.delete(kept.keys().next().value);
}
