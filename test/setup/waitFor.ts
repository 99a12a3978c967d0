// vi.waitFor gives up after 1 s unless told otherwise: too short for what the code does at once on a loaded
// two-core machine (two test files at a time, a browser or a soak beside), where a wait of 1 s failed. A
// longer default only lets a slow pass pass: a wait that is never met still fails, later. Explicit options win.
import { vi } from 'vitest';

const waitFor = vi.waitFor.bind(vi);
vi.waitFor = ((callback, options = {}) => waitFor(callback, typeof options === 'number' ? options : { timeout: 10_000, ...options })) as typeof vi.waitFor;
