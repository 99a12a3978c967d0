import { IDBFactory } from 'fake-indexeddb';
import { describe, it } from 'vitest';
import { IdbStore } from '../worker/IdbStore';
import { MemoryStore } from '../worker/MemoryStore';
import type { Store } from '../worker/Store';
import { storeContract, type ContractContext } from './contract/storeContract';

const stores: Record<string, () => Promise<ContractContext>> = {
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
  async IdbStore() {
    const indexedDB = new IDBFactory();
    const open = () => IdbStore.open({ name: 'contract', indexedDB });
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
};

for (const [name, make] of Object.entries(stores)) {
  describe(`${name} contract`, () => {
    for (const [title, run] of Object.entries(storeContract)) {
      it(title, async () => {
        await run(await make());
      });
    }
  });
}
