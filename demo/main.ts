import { SmartCacheConfig } from '../src/index';

// Data is always rendered as text, never as HTML.
const config = new SmartCacheConfig();
const body = document.querySelector('#policies tbody');
for (const policy of Object.values(config.getAllPolicies())) {
  const row = document.createElement('tr');
  for (const text of [
    policy.contentType,
    config.formatTtl(policy.ttlSeconds),
    policy.invalidationStrategy,
    policy.maxSizeMb === null ? 'none' : `${policy.maxSizeMb} MB`,
    SmartCacheConfig.isPersistentCache(policy.contentType) ? 'IndexedDB' : 'memory',
  ]) {
    const cell = document.createElement('td');
    cell.textContent = text;
    row.append(cell);
  }
  body?.append(row);
}
