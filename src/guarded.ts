/**
 * Runs the app's code (a listener, an onProgress, the logger; the page's callbacks, from the worker) so
 * that it cannot hurt Reprise's: what it throws, or the promise it returns rejects with (any thenable:
 * another realm's Promise is no instance of this one's), goes to `report`, never to the caller; nowhere
 * by default. Settles once `run`'s answer has.
 */
export function guarded(run: () => unknown, report: (error: unknown) => void = () => {}): Promise<void> {
  try {
    return Promise.resolve(run()).then(() => {}, report);
  } catch (error) {
    report(error);
    return Promise.resolve();
  }
}
