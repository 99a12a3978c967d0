import type { Random } from './random';

/** The part of BroadcastChannel the library uses (a copy of worker/TabSync's: the simulation must not import it). */
export interface ChannelLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  close(): void;
}

export interface SimNetworkOptions {
  /** Each delivery waits 0..maxDelayTicks extra turns of the network's setImmediate pump (default 3). */
  maxDelayTicks?: number;
  /** Probability that a delivery arrives twice (default 0). */
  duplicate?: number;
  /** false keeps each sending tab's messages in post order at each receiving channel (default true). */
  reorder?: boolean;
  /** Stamps posts and deliveries (default: the number of deliveries made so far). */
  now?: () => number;
  /** Record `posts` and `deliveries` (default true); false keeps memory bounded in long runs. */
  keepLog?: boolean;
}

export interface PostRecord {
  id: number;
  from: string;
  /** The clone taken at post time. */
  data: unknown;
  postedAt: number;
}

/** `id` is the post's id: a duplicated delivery is recorded twice. */
export interface DeliveryRecord extends PostRecord {
  to: string;
  deliveredAt: number;
}

interface Instance {
  /** Its owner, which may change (see rename). */
  tab: string;
  open: boolean;
  readonly listeners: Set<(event: MessageEvent) => void>;
  /** With reorder: false, the last due turn per sending tab. */
  readonly lastDue: Map<string, number>;
}

interface Delivery {
  readonly post: PostRecord;
  readonly to: Instance;
  readonly due: number;
  readonly seq: number;
}

/**
 * One simulated BroadcastChannel name shared by simulated tabs, with seeded delays, reordering,
 * duplication, loss, gating and partitions. Deliveries are made one per setImmediate turn, so that
 * microtasks run between two messages as between two tasks in a browser.
 */
export class SimNetwork {
  readonly clock: () => number;
  readonly posts: PostRecord[] = [];
  readonly deliveries: DeliveryRecord[] = [];
  /** What listeners threw: a browser reports those to the page, never to the sender; assert this stays empty. */
  readonly errors: unknown[] = [];

  readonly #random: Random;
  readonly #maxDelay: number;
  readonly #duplicate: number;
  readonly #reorder: boolean;
  readonly #keepLog: boolean;
  readonly #open = new Set<Instance>();
  /** Sorted by (due, seq). */
  #queue: Delivery[] = [];
  readonly #held = new Map<string, Delivery[]>();
  readonly #loss = new Map<string, number>();
  readonly #partitioned = new Set<string>();
  /** Post id → tab → first deliveredAt, for wasDelivered. */
  readonly #firstDelivery = new Map<number, Map<string, number>>();
  #turn = 0;
  #seq = 0;
  #postId = 0;
  #delivered = 0;
  #pumping = false;

  constructor(random: Random, options: SimNetworkOptions = {}) {
    const { maxDelayTicks = 3, duplicate = 0, reorder = true, now, keepLog = true } = options;
    if (!Number.isInteger(maxDelayTicks) || maxDelayTicks < 0) throw new RangeError(`maxDelayTicks must be an integer >= 0, got ${maxDelayTicks}`);
    checkProbability('duplicate', duplicate);
    this.#random = random;
    this.#maxDelay = maxDelayTicks;
    this.#duplicate = duplicate;
    this.#reorder = reorder;
    this.#keepLog = keepLog;
    this.clock = now ?? (() => this.#delivered);
  }

  /** Deliveries queued and not held by a gate. */
  get inFlight(): number {
    return this.#queue.length;
  }

  /** What a tab calls to open the channel; each call opens a new instance owned by `tab`. */
  opener(tab: string): () => ChannelLike {
    return () => {
      const instance: Instance = { tab, open: true, listeners: new Set(), lastDue: new Map() };
      this.#open.add(instance);
      return {
        postMessage: (message) => this.#post(instance, message),
        addEventListener: (type, listener) => {
          if (type === 'message') instance.listeners.add(listener);
        },
        close: () => this.#close(instance),
      };
    };
  }

  /** Silently drops this fraction of the deliveries addressed to `tab`. */
  setLossy(tab: string, probability: number): void {
    checkProbability('probability', probability);
    this.#loss.set(tab, probability);
  }

  /** Holds every delivery to `tab` until release(tab). */
  gate(tab: string): void {
    if (!this.#held.has(tab)) this.#held.set(tab, []);
  }

  release(tab: string): void {
    const held = this.#held.get(tab);
    this.#held.delete(tab);
    // Their original keys are already due, so they go first, in the order they were held.
    for (const delivery of held ?? []) this.#insert(delivery);
    this.#schedule();
  }

  /** Drops everything to and from `tab` (posted, or due, while partitioned) until heal(tab). */
  partition(tab: string): void {
    this.#partitioned.add(tab);
  }

  heal(tab: string): void {
    this.#partitioned.delete(tab);
  }

  /** The tab died: its channels close without it calling close(). */
  kill(tab: string): void {
    for (const instance of [...this.#open]) if (instance.tab === tab) this.#close(instance);
  }

  /** The channels of `tab` still open belong to `to` from now on: what they post and receive is recorded as its. */
  rename(tab: string, to: string): void {
    for (const instance of this.#open) if (instance.tab === tab) instance.tab = to;
  }

  /** Whether post `postId` reached a channel of `tab` (strictly before clock time `before`, if given). */
  wasDelivered(postId: number, tab: string, before?: number): boolean {
    if (!this.#keepLog) throw new Error('wasDelivered needs keepLog: true');
    const at = this.#firstDelivery.get(postId)?.get(tab);
    return at !== undefined && (before === undefined || at < before);
  }

  /** Resolves once nothing is in flight (held deliveries aside). A listener's later work may post more. */
  async drain(): Promise<void> {
    while (this.#queue.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  #post(from: Instance, message: unknown): void {
    if (!from.open) return;
    const data = structuredClone(message); // throws DataCloneError, as postMessage does
    const post: PostRecord = { id: ++this.#postId, from: from.tab, data, postedAt: this.clock() };
    if (this.#keepLog) this.posts.push(post);
    // Receivers are fixed at post time, as in the spec; iteration follows open order, so it is deterministic.
    for (const to of this.#open) {
      if (to === from) continue;
      const lost = this.#random.chance(this.#loss.get(to.tab) ?? 0);
      const twice = this.#random.chance(this.#duplicate);
      if (lost || this.#cut(from.tab, to.tab)) continue;
      this.#enqueue(post, to);
      if (twice) this.#enqueue(post, to);
    }
    this.#schedule();
  }

  #enqueue(post: PostRecord, to: Instance): void {
    let due = this.#turn + 1 + this.#random.int(this.#maxDelay + 1);
    if (!this.#reorder) {
      due = Math.max(due, to.lastDue.get(post.from) ?? 0);
      to.lastDue.set(post.from, due);
    }
    this.#insert({ post, to, due, seq: ++this.#seq });
  }

  #insert(delivery: Delivery): void {
    let lo = 0;
    let hi = this.#queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.#queue[mid] as Delivery;
      if (other.due < delivery.due || (other.due === delivery.due && other.seq < delivery.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.#queue.splice(lo, 0, delivery);
  }

  #schedule(): void {
    if (this.#pumping || this.#queue.length === 0) return;
    this.#pumping = true;
    setImmediate(() => {
      this.#pumping = false;
      this.#turn++;
      this.#step();
      this.#schedule();
    });
  }

  /** Makes at most one delivery: each message is a task of its own. */
  #step(): void {
    for (let next = this.#queue[0]; next && next.due <= this.#turn; next = this.#queue[0]) {
      this.#queue.shift();
      const { post, to } = next;
      if (!to.open || this.#cut(post.from, to.tab)) continue;
      const held = this.#held.get(to.tab);
      if (held) {
        held.push(next);
        continue;
      }
      this.#deliver(post, to);
      return;
    }
  }

  #deliver(post: PostRecord, to: Instance): void {
    this.#delivered++;
    const deliveredAt = this.clock();
    if (this.#keepLog) {
      this.deliveries.push({ ...post, to: to.tab, deliveredAt });
      const byTab = this.#firstDelivery.get(post.id) ?? new Map<string, number>();
      if (!byTab.has(to.tab)) byTab.set(to.tab, deliveredAt);
      this.#firstDelivery.set(post.id, byTab);
    }
    // Each receiver deserializes its own copy.
    const event = { type: 'message', data: structuredClone(post.data) } as MessageEvent;
    for (const listener of [...to.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.errors.push(error);
      }
    }
  }

  #close(instance: Instance): void {
    if (!instance.open) return;
    instance.open = false;
    this.#open.delete(instance);
    this.#queue = this.#queue.filter((delivery) => delivery.to !== instance);
    const held = this.#held.get(instance.tab);
    if (held) this.#held.set(instance.tab, held.filter((delivery) => delivery.to !== instance));
  }

  #cut(from: string, to: string): boolean {
    return this.#partitioned.has(from) || this.#partitioned.has(to);
  }
}

function checkProbability(name: string, p: number): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${name} must be within [0, 1], got ${p}`);
}
