export { CacheError, CACHE_ERROR_CODES, isCacheError } from './CacheError';
export type { CacheErrorCode, CacheErrorIssue } from './CacheError';
export { CONTENT_TYPES } from './contentType';
export type { ContentType, TypeName } from './contentType';
export { INVALIDATION_STRATEGIES } from './invalidationStrategy';
export type { InvalidationStrategy } from './invalidationStrategy';
export { DAY, DEFAULT_NEGATIVE_RESULT_TTL, HOUR, INFINITE_TTL, MINUTE, MONTH, WEEK } from './time';
export { DEFAULT_CLEANUP_THRESHOLD } from './cachePolicy';
export type { CachePolicy } from './cachePolicy';
export type { CacheConfig, CacheConfigOf, CustomTypeConfig, PolicyPatch } from './configSchema';
export { SmartCacheConfig } from './SmartCacheConfig';
export { DEFAULT_CLEANUP_INTERVAL_SECONDS } from './PolicyTable';
export { EVENT_TYPES, createCacheEvent } from './cacheEvent';
export type { CacheEvent, CacheEventInput, EventType } from './cacheEvent';
export { EventDrivenCacheManager } from './EventDrivenCacheManager';
export type { CacheEventHandler } from './EventDrivenCacheManager';
export type { Logger } from './Logger';
export { albumKey } from './albumKey';
export { fingerprintTrack } from './fingerprintTrack';
export type { TrackIdentity } from './fingerprintTrack';
export { isFingerprint } from './isFingerprint';
export { createCache } from './createCache';
export type { CreateCacheOptions } from './createCache';
export type {
  Cache,
  CacheChange,
  CacheType,
  ChangeKind,
  CacheEventListener,
  CacheStats,
  CleanupReport,
  EmitReport,
  EventContext,
  Fetcher,
  FetcherContext,
  GetManyOptions,
  GetOptions,
  ListOptions,
  ResolveOptions,
  ResolveSource,
  Resolved,
  Schemas,
  SchemasOf,
  SetManyEntry,
  SetManyOptions,
  SetOptions,
  TypeStats,
  ValueIn,
  ValueOf,
  WatchListener,
} from './Cache';
