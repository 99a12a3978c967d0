/**
 * The rejections Node reports unhandled (`unhandledRejection`) while `run` runs, and until a few turns
 * after it: Node tells one once the microtasks of the task that made it have run, so one left behind at
 * the end of `run` is still heard. `run` is given them as they come, to wait for one.
 */
export async function unhandledRejections(run: (unhandled: readonly unknown[]) => Promise<void>): Promise<unknown[]> {
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => void unhandled.push(reason);
  process.on('unhandledRejection', record);
  try {
    await run(unhandled);
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', record);
  }
  return unhandled;
}
