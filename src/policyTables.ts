import type { PolicyTable } from './PolicyTable';

/**
 * Each SmartCacheConfig's table of policies, which the in-process engine and the event rules read (the
 * class shows apps only the methods of SPEC §2): kept apart from it, so that createCache does not import it.
 */
export const policyTables = new WeakMap<object, PolicyTable>();
