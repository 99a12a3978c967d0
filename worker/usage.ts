import type { Usage } from './Store';

export const noUsage = (): Usage => ({ entries: 0, bytes: 0 });

/** Takes a removed record out of its type's usage (a prior an import left in it was never counted: see importBatch.ts). */
export function forget(usage: Usage, record: { bytes: number }): void {
  usage.entries--;
  usage.bytes -= record.bytes;
}

/** The average entry size of a type, to estimate how many entries free a number of bytes. */
export function averageBytes(usage: Usage): number {
  return usage.entries > 0 ? Math.max(1, usage.bytes / usage.entries) : 1;
}
