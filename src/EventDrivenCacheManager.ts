import * as z from 'zod/mini';
import { listenerSchema, loggerSchema } from './cacheArgs';
import { CacheError } from './CacheError';
import { createCacheEvent, eventTypeOf, eventTypeSchema, type CacheEvent, type CacheEventInput, type EventOfType, type EventType } from './cacheEvent';
import type { TypeName } from './contentType';
import { Handlers } from './Handlers';
import { describeValue } from './describeValue';
import { guardLogger, type Logger } from './Logger';
import { parse } from './parse';
import { policyTables } from './policyTables';
import { shouldInvalidateForEvent } from './shouldInvalidateForEvent';
import type { SmartCacheConfig } from './SmartCacheConfig';

/** Gets the very event given to `emitEvent`: an optional field given as null (the seed's None) is null there. */
export type CacheEventHandler<E extends CacheEventInput = CacheEventInput> = (event: E) => unknown;

const optionsSchema = z.strictObject({ logger: z.optional(loggerSchema) });

/** Routes library events to handlers and answers which content types an event invalidates. */
export class EventDrivenCacheManager {
  readonly config: SmartCacheConfig;
  readonly #handlers: Handlers<EventType, [CacheEventInput]>;

  constructor(config: SmartCacheConfig, options: { logger?: Logger | undefined } = {}) {
    // Its rules read the config's table: a config's plain data has none.
    if (!policyTables.has(config as object)) {
      throw new CacheError('invalid_argument', `Invalid config: expected a SmartCacheConfig (new SmartCacheConfig(config)), got ${describeValue(config)}`);
    }
    const { logger } = parse(optionsSchema, options, 'invalid_argument', 'EventDrivenCacheManager options');
    this.config = config;
    this.#handlers = new Handlers(guardLogger(logger ?? console));
  }

  /** Returns a function that unregisters the handler. */
  registerEventHandler<E extends EventType>(eventType: E, handler: CacheEventHandler<EventOfType<E, CacheEventInput>>): () => void {
    const type = parse(eventTypeSchema, eventType, 'invalid_event', 'event type');
    parse(listenerSchema, handler, 'invalid_argument', 'handler');
    return this.#handlers.add(type, handler as CacheEventHandler);
  }

  /** Validates the event and calls each handler of its type in order with it; a failing handler is reported, not thrown. */
  emitEvent(input: CacheEventInput): CacheEventInput {
    const { eventType } = createCacheEvent(input);
    // The caller's own object, not the validated copy, as the seed's handler(event): a handler may look for the event it
    // was given. So an optional field the caller gave as null (the seed's None) is null there, as in the seed.
    this.#handlers.run([eventType], input);
    return input;
  }

  /** Whether an event of this kind removes entries of `type`; an event without a known `eventType` is `invalid_event`. */
  shouldInvalidateForEvent(type: TypeName, event: Pick<CacheEvent, 'eventType'>): boolean {
    return shouldInvalidateForEvent(policyTables.get(this.config)!, type, eventTypeOf(event));
  }
}
