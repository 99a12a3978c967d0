import { describe, expect, it } from 'vitest';
import { StagedBatches } from '../worker/StagedBatches';

const entry = (key: string) => ({ key, value: key });

describe('StagedBatches', () => {
  it('gives a batch its chunks in the order staged, once', () => {
    const staged = new StagedBatches();
    staged.stage('b1', [entry('a'), entry('b')]);
    staged.stage('b2', [entry('x')]);
    staged.stage('b1', [entry('c')]);
    expect(staged.take('b1', 3).map(({ key }) => key)).toEqual(['a', 'b', 'c']);
    expect(() => staged.take('b1', 3)).toThrow(expect.objectContaining({ code: 'worker_failed' }));
    expect(staged.take('b2', 1)).toEqual([entry('x')]);
  });

  it('refuses a batch it holds part of (staged partly in a worker that died), forgetting it', () => {
    const staged = new StagedBatches();
    staged.stage('b', [entry('c')]);
    expect(() => staged.take('b', 3)).toThrow(expect.objectContaining({ code: 'worker_failed', message: expect.stringContaining('1 of its 3 entries') }));
    expect(() => staged.take('b', 1)).toThrow(expect.objectContaining({ code: 'worker_failed' }));
  });

  it('forgets discarded and cleared batches', () => {
    const staged = new StagedBatches();
    staged.stage('b1', [entry('a')]);
    staged.stage('b2', [entry('b')]);
    staged.discard('b1');
    expect(() => staged.take('b1', 1)).toThrow(expect.objectContaining({ code: 'worker_failed' }));
    staged.clear();
    expect(() => staged.take('b2', 1)).toThrow(expect.objectContaining({ code: 'worker_failed' }));
  });
});
