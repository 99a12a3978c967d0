// Runs the shared store contract against native IndexedDB and the memory store, for test/browser/stores.test.ts.
import { contractStores, storeContract } from '../../contract/storeContract';

export interface ContractResult {
  store: string;
  name: string;
  error: string | null;
}

declare global {
  interface Window {
    runStoreContract: () => Promise<ContractResult[]>;
  }
}

window.runStoreContract = async () => {
  const results: ContractResult[] = [];
  for (const [store, make] of Object.entries(contractStores(indexedDB))) {
    for (const [name, run] of Object.entries(storeContract)) {
      try {
        await run(await make());
        results.push({ store, name, error: null });
      } catch (error) {
        results.push({ store, name, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      }
    }
  }
  return results;
};
