import type { ChannelMessage } from './channelMessage';

/** Bumped when a message would be misread by the tabs of an earlier build (a field added is not: see channelMessage): a tab drops (and counts) messages of another version. */
export const CHANNEL_VERSION = 2;

/** Keys in one change message at most: past it a change says "any key of the type" (see worker/ChangeFeed). */
export const MAX_CHANGE_KEYS = 100;

/** Whether a change of `keys` names each of them: a change message carries MAX_CHANGE_KEYS at most, and past it names the whole type. */
export const namesEachKey = (keys: readonly string[]): boolean => keys.length <= MAX_CHANGE_KEYS;

/** The part of BroadcastChannel Reprise uses (Node has one too, so tabs can be simulated in tests). */
export interface ChannelLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  close(): void;
}

/**
 * The channel to the other tabs as the engine (TabSync) uses it. What arrives is checked already, by
 * `checkedChannel` on the page's side of the worker boundary: a `ChannelMessage`, or `null` for a
 * message that was malformed (dropped; TabSync counts it). Once closed, it delivers nothing more.
 */
export interface TabChannel {
  post(message: ChannelMessage): void;
  /** Settles once messages from the other tabs reach this channel (at once for a BroadcastChannel of this thread). */
  ready: Promise<void>;
  close(): void;
}

/** Opens a channel to the other tabs whose messages go to `receive`. */
export type OpenTabChannel = (receive: (message: ChannelMessage | null) => void) => TabChannel;
