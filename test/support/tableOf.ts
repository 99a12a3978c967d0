import type { PolicyTable } from '../../src/PolicyTable';
import { policyTables } from '../../src/policyTables';
import type { SmartCacheConfig } from '../../src/SmartCacheConfig';

/** A config's table of policies, as the engine and the event rules read it (apps do not see it). */
export function tableOf(config: SmartCacheConfig<string>): PolicyTable {
  return policyTables.get(config)!;
}
