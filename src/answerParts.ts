import * as Comlink from 'comlink';
import { ANSWER_PART } from './protocol';

/**
 * In the worker: an answer longer than ANSWER_PART as a port, on which its parts come one message each,
 * in order, then an empty one (not a null: Chromium delivers a message it cannot read as one).
 */
export function inParts(answer: unknown): unknown {
  if (!Array.isArray(answer) || answer.length <= ANSWER_PART) return answer;
  const { port1, port2 } = new MessageChannel();
  for (let from = 0; from < answer.length; from += ANSWER_PART) port1.postMessage(answer.slice(from, from + ANSWER_PART));
  port1.postMessage([]);
  return Comlink.transfer(port2, [port2]);
}

/**
 * On the page: the whole answer, each part taken in from a message (a task) of its own. A part the page
 * cannot read is `unreadable`'s, as an answer is (its worker is taken for dead, and the call rejects).
 */
export function wholeAnswer(answer: unknown, unreadable: () => void): unknown {
  if (!(answer instanceof MessagePort)) return answer;
  const whole: unknown[] = [];
  return new Promise((resolve) => {
    // Closed at once: the parts after it, and the end, are not taken for the whole.
    const unread = () => (answer.close(), unreadable());
    answer.onmessageerror = unread;
    answer.onmessage = ({ data }: MessageEvent<unknown[] | null>) => (data?.length ? whole.push(...data) : data ? (answer.close(), resolve(whole)) : unread());
  });
}
