// A page whose BroadcastChannels really miss messages, with no lifecycle event to tell it: the way a
// browser loses them (a busy or throttled page is not it; a dropped delivery is).
import type { Page } from 'playwright-core';

export interface Gate {
  closed: boolean;
  dropped: number;
}

/**
 * Injected into a page (`page.evaluate(gateChannels, only)`) before its cache opens: the BroadcastChannels
 * it makes from then on (those named `only`, or all) drop what arrives while `window.gate.closed` is set.
 * Self-contained, as Playwright sends its source; installed once a page.
 */
export function gateChannels(only: string | null): void {
  if ('gate' in window) return;
  const gate: Gate = { closed: false, dropped: 0 };
  class Gated extends window.BroadcastChannel {
    override addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void {
      if (type !== 'message' || (only !== null && this.name !== only)) return super.addEventListener(type, listener, options);
      super.addEventListener(
        type,
        (event) => {
          if (gate.closed) return void gate.dropped++;
          if (typeof listener === 'function') listener.call(this, event);
          else listener.handleEvent(event);
        },
        options,
      );
    }
  }
  Object.assign(window, { gate, BroadcastChannel: Gated });
}

/** Closes or opens the page's gate. */
export const setGate = (page: Page, closed: boolean): Promise<void> => page.evaluate((closed) => void ((window as unknown as { gate: Gate }).gate.closed = closed), closed);
