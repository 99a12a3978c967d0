import type { ValidConfig, ValidPolicyPatch } from './configSchema';
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

/**
 * `config` with `patch` applied to `type`'s policy (a custom type's, or a built-in one's), as a worker's
 * table applies it: the config a worker started later is sent holds the patches its predecessor was sent,
 * and no patch still held back (see createCache).
 */
export function patchedConfig({ caching = {} }: ValidConfig, type: TypeName, patch: ValidPolicyPatch): ValidConfig {
  const where = caching.customTypes?.[type] ? 'customTypes' : 'policies';
  const policies = caching[where] as Record<TypeName, object> | undefined;
  const fields = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
  return { caching: { ...caching, [where]: { ...policies, [type]: { ...policies?.[type], ...fields } } } };
}
