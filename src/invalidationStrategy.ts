/** How entries of a content type stop being valid. The strings are part of the API. */
export const INVALIDATION_STRATEGIES = ['time_based', 'event_driven', 'fingerprint_based', 'hybrid'] as const;

export type InvalidationStrategy = (typeof INVALIDATION_STRATEGIES)[number];
