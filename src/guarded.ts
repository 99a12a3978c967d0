/**
 * Runs the app's code (a listener, an onProgress, the logger) so that it cannot hurt Reprise's: what
 * it throws, or the promise it returns rejects with (any thenable: another realm's Promise is no
 * instance of this one's), goes to `report`, never to the caller; nowhere by default.
 */
export function guarded(run: () => unknown, report: (error: unknown) => void = () => {}): void {
  try {
    Promise.resolve(run()).catch(report);
  } catch (error) {
    report(error);
  }
}
