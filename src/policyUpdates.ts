import type { ValidPolicyPatch } from './configSchema';
import type { TypeName } from './contentType';

export type PolicyUpdateListener = (type: TypeName, patch: ValidPolicyPatch) => void;

/**
 * Who follows each SmartCacheConfig's `updatePolicy`: a cache whose engine runs in a worker, which got
 * the config as data. Kept apart from the class, so that createCache does not import it.
 */
export const policyUpdates = new WeakMap<object, Set<PolicyUpdateListener>>();

/** Calls `listener` after each `updatePolicy` of `config`; returns the function that stops it. */
export function followPolicyUpdates(config: object, listener: PolicyUpdateListener): () => void {
  let listeners = policyUpdates.get(config);
  if (!listeners) policyUpdates.set(config, (listeners = new Set()));
  listeners.add(listener);
  return () => listeners.delete(listener);
}
