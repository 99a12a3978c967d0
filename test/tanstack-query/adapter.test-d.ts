// Type tests of reprise/tanstack-query: a cache with schemas and custom types fits each function, and
// its custom type names are accepted where a content type is asked.
import { z } from 'zod';
import { createCache } from '../../src/index';
import { createPersister, createQueryStorage } from '../../src/tanstack-query/index';

const cache = await createCache({
  config: { caching: { customTypes: { queries: { persistent: true, ttlSeconds: 86_400, invalidationStrategy: 'time_based', maxSizeMb: 20 } } } },
  schemas: { album_year: z.number() },
});
createPersister(cache, { type: 'queries' });
createPersister(cache, { type: 'track_metadata', key: 'player' });
createQueryStorage(cache, 'queries');
// @ts-expect-error not a type of this cache
createQueryStorage(cache, 'podcast');
// @ts-expect-error not a type of this cache
createPersister(cache, { type: 'querys' });
