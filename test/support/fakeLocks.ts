// Web Locks for Node (which lacks them): exclusive locks shared by the "agents" (tabs, workers) of one
// registry, released when the agent dies, as a browser releases a terminated worker's locks.

import { vi } from 'vitest';

interface Held {
  name: string;
  agent: number;
}

interface Waiting {
  name: string;
  agent: number;
  grant: () => void;
}

export interface FakeLockAgent {
  readonly locks: LockManager;
  /** The agent is gone: its locks are released and its waiting requests dropped. */
  kill(): void;
}

export function fakeLocks() {
  const held: Held[] = [];
  const waiting: Waiting[] = [];
  let agents = 0;
  const isHeld = (name: string) => held.some((lock) => lock.name === name);
  const grantNext = () => {
    for (const request of [...waiting]) {
      if (isHeld(request.name)) continue;
      waiting.splice(waiting.indexOf(request), 1);
      request.grant();
    }
  };

  function agent(): FakeLockAgent {
    const id = ++agents;
    let dead = false;
    const locks = {
      async request(name: string, ...rest: unknown[]) {
        // As browsers: names starting with '-' are reserved (Web Locks §request, step "If name starts with '-'").
        if (name.startsWith('-')) throw new DOMException("Failed to execute 'request' on 'LockManager': Names cannot start with '-'.", 'NotSupportedError');
        const callback = rest.at(-1) as (lock: Lock | null) => unknown;
        const options = (rest.length > 1 ? rest[0] : {}) as LockOptions;
        if (dead) return new Promise(() => {});
        if (options.ifAvailable && isHeld(name)) return callback(null);
        if (isHeld(name)) await new Promise<void>((grant) => waiting.push({ name, agent: id, grant }));
        const lock: Held = { name, agent: id };
        held.push(lock);
        try {
          return await callback({ name, mode: 'exclusive' } as Lock);
        } finally {
          const index = held.indexOf(lock);
          if (index >= 0) held.splice(index, 1);
          grantNext();
        }
      },
      async query() {
        return { held: held.map(({ name }) => ({ name, mode: 'exclusive' as const })), pending: waiting.map(({ name }) => ({ name, mode: 'exclusive' as const })) };
      },
    } as unknown as LockManager;
    return {
      locks,
      kill() {
        dead = true;
        for (let index = held.length - 1; index >= 0; index--) if (held[index]!.agent === id) held.splice(index, 1);
        for (let index = waiting.length - 1; index >= 0; index--) if (waiting[index]!.agent === id) waiting.splice(index, 1);
        grantNext();
      },
    };
  }
  return { agent };
}

/** Web Locks of a document no longer fully active (a detached iframe): there, yet every request and query rejects. */
export function refusingLocks() {
  const refuse = () => Promise.reject(new DOMException("Failed to execute 'request' on 'LockManager': The document is not fully active.", 'InvalidStateError'));
  return { request: vi.fn(refuse), query: vi.fn(refuse) };
}
