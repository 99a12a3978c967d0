// A module worker that proves the platform pieces the engine needs work here: the model imports,
// IndexedDB opens through idb and keeps a record, Web Crypto hashes.
import { openDB } from 'idb';
import { SmartCacheConfig, fingerprintTrack } from '../../../src/index';

self.onmessage = async (message: MessageEvent<{ dbName: string }>) => {
  const db = await openDB(message.data.dbName, 1, {
    upgrade: (database) => database.createObjectStore('probe'),
  });
  await db.put('probe', { at: 'worker' }, 'key');
  const stored: unknown = await db.get('probe', 'key');
  db.close();
  self.postMessage({
    stored,
    ttl: new SmartCacheConfig().formatTtl(3600),
    fingerprint: await fingerprintTrack({ persistentId: 'p', location: 'l' }),
  });
};
