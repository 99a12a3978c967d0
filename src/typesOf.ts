import type { ValidConfig } from './configSchema';
import { CONTENT_TYPES, isPersistentType, type TypeName } from './contentType';

/**
 * The content types a valid config declares (the built-in ones, then its custom ones), each with
 * whether it is persistent: what the page needs to check calls, without the policy table.
 */
export function typesOf(config: ValidConfig): ReadonlyMap<TypeName, boolean> {
  const types = new Map<TypeName, boolean>(CONTENT_TYPES.map((type) => [type, isPersistentType(type)]));
  for (const [name, { persistent }] of Object.entries(config.caching?.customTypes ?? {})) types.set(name, persistent);
  return types;
}
