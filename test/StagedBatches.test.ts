import { describe, expect, it } from 'vitest';
import { StagedBatches } from '../worker/StagedBatches';

const entry = (key: string) => ({ key, value: key });
const nowhere = () => Promise.resolve(null);

describe('StagedBatches', () => {
  it('gives a batch its chunks in the order staged, once', () => {
    const staged = new StagedBatches();
    staged.stage('b1', [], nowhere);
    staged.stage('b2', [], nowhere);
    staged.stage('b1', [entry('a'), entry('b')], nowhere);
    staged.stage('b2', [entry('x')], nowhere);
    staged.stage('b1', [entry('c')], nowhere);
    expect(staged.take('b1', 3).entries.map(({ key }) => key)).toEqual(['a', 'b', 'c']);
    expect(() => staged.take('b1', 3)).toThrow(expect.objectContaining({ code: 'worker_failed' }));
    expect(staged.take('b2', 1).entries).toEqual([entry('x')]);
  });

  it('keeps where the event log stood as a batch\'s first chunk arrived, read once', async () => {
    const staged = new StagedBatches();
    let reads = 0;
    const place = (seq: number) => () => (reads++, Promise.resolve({ epoch: 'e', seq }));
    staged.stage('b', [], place(7));
    staged.stage('b', [entry('a')], place(9));
    expect(await staged.take('b', 1).place).toEqual({ epoch: 'e', seq: 7 });
    expect(reads).toBe(1);
  });

  it('refuses a batch it holds part of (staged partly in a worker that died), forgetting it', () => {
    const staged = new StagedBatches();
    staged.stage('b', [], nowhere);
    staged.stage('b', [entry('c')], nowhere);
    expect(() => staged.take('b', 3)).toThrow(expect.objectContaining({ code: 'worker_failed', message: expect.stringContaining('1 of its 3 entries') }));
    expect(() => staged.take('b', 1)).toThrow(expect.objectContaining({ code: 'worker_failed' }));
  });

  it('refuses a batch whose first chunk (empty, where the log stood) reached a worker that died since, though every entry reached this one', () => {
    const staged = new StagedBatches();
    staged.stage('b', [entry('a')], nowhere);
    staged.stage('b', [entry('b')], nowhere);
    expect(() => staged.take('b', 2)).toThrow(expect.objectContaining({ code: 'worker_failed' }));
  });

  it('forgets discarded and cleared batches', () => {
    const staged = new StagedBatches();
    for (const batch of ['b1', 'b2']) staged.stage(batch, [], nowhere);
    staged.stage('b1', [entry('a')], nowhere);
    staged.stage('b2', [entry('b')], nowhere);
    staged.discard('b1');
    expect(() => staged.take('b1', 1)).toThrow(expect.objectContaining({ code: 'worker_failed' }));
    staged.clear();
    expect(() => staged.take('b2', 1)).toThrow(expect.objectContaining({ code: 'worker_failed' }));
  });
});
