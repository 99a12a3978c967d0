// QueryClients for the adapter's tests, cleared after each test, and the "reload" of a persisted client.
import { QueryClient } from '@tanstack/query-core';
import { persistQueryClientRestore, persistQueryClientSave, type experimental_createQueryPersister } from '@tanstack/query-persist-client-core';
import { afterEach } from 'vitest';
import { createPersister } from '../../src/tanstack-query';
import { openCache } from '../support/openCache';

const clients: QueryClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.clear();
});

/** A client that never refetches on its own (staleTime Infinity) nor retries; `persister` for every query. */
export function queryClient(persister?: ReturnType<typeof experimental_createQueryPersister<never>>['persisterFn']): QueryClient {
  const client = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false, persister } } });
  clients.push(client);
  return client;
}

/**
 * Saves `before` with createPersister (successful_api_metadata), closes its cache, and "reloads": a new
 * cache on the same database, a new client restored from it.
 */
export async function reloadPersisted(opened: Awaited<ReturnType<typeof openCache>>, before: QueryClient): Promise<QueryClient> {
  const { cache, name, indexedDB, clock } = opened;
  await persistQueryClientSave({ queryClient: before, persister: createPersister(cache, { type: 'successful_api_metadata' }) });
  await cache.close();
  const { cache: reopened } = await openCache({ name, indexedDB, clock });
  const after = queryClient();
  await persistQueryClientRestore({ queryClient: after, persister: createPersister(reopened, { type: 'successful_api_metadata' }) });
  return after;
}
