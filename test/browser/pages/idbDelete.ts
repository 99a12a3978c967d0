// Plain IndexedDB in the page (no Reprise code), for test/browser/idbDelete.test.ts.
import { deleteDuringWrite } from '../../support/deleteDuringWrite';

declare global {
  interface Window {
    /** Runs the scenario with a plain deleteDatabase; its log, and whether the delete was blocked before it succeeded. */
    deleteProbe(name: string): Promise<{ log: string[]; blocked: boolean }>;
  }
}

window.deleteProbe = async (name) => {
  let blocked = false;
  const log = await deleteDuringWrite(indexedDB, name, (deleted) => {
    const request = indexedDB.deleteDatabase(deleted);
    request.onblocked = () => (blocked = true);
    return new Promise((resolve, reject) => {
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error ?? new Error('delete failed'));
    });
  });
  return { log, blocked };
};
