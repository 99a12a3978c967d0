/** Lets Node end while this channel or port is open (tests run the page's and the worker's sides there); nothing in a browser. */
export function unref(channel: object): void {
  (channel as { unref?: () => void }).unref?.();
}
