import { IDBFactory } from 'fake-indexeddb';
import { describe, it } from 'vitest';
import { contractStores, storeContract } from './contract/storeContract';

for (const [name, make] of Object.entries(contractStores(new IDBFactory()))) {
  describe(`${name} contract`, () => {
    for (const [title, run] of Object.entries(storeContract)) {
      it(title, async () => {
        await run(await make());
      });
    }
  });
}
