/** Where Reprise reports a failure it must not throw, such as a listener that threw. */
export interface Logger {
  error(message: string, error: unknown): void;
}
