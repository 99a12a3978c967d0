import { guarded } from './guarded';

/** Where Reprise reports a failure it must not throw, such as a listener that threw. */
export interface Logger {
  error(message: string, error: unknown): void;
}

/**
 * The app's logger, called so that it cannot hurt the call that reports: a throw, or a promise that
 * rejects (an async logger), is dropped — reporting the logger's failure to it again could recurse.
 */
export function guardLogger(logger: Logger): Logger {
  return { error: (message, error) => guarded(() => logger.error(message, error)) };
}
