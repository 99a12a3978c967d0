// Runs the shared store contract against native IndexedDB and the memory store, for test/browser/stores.test.ts.
import { IdbStore } from '../../../worker/IdbStore';
import { MemoryStore } from '../../../worker/MemoryStore';
import type { Store } from '../../../worker/Store';
import { storeContract, type ContractContext } from '../../contract/storeContract';

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

let databases = 0;

const makers: Record<string, () => Promise<ContractContext>> = {
  async IdbStore() {
    const name = `contract-${Date.now()}-${++databases}`;
    const open = () => IdbStore.open({ name, indexedDB });
    let store: Store = await open();
    return {
      store,
      persistent: true,
      reopen: async () => {
        store.close();
        return (store = await open());
      },
    };
  },
  async MemoryStore() {
    let store: Store = new MemoryStore({ clone: true });
    return {
      store,
      persistent: false,
      reopen: async () => {
        store.close();
        return (store = new MemoryStore({ clone: true }));
      },
    };
  },
};

window.runStoreContract = async () => {
  const results: ContractResult[] = [];
  for (const [store, make] of Object.entries(makers)) {
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
