import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerMethods } from '../build/workerMethods';

const root = join(import.meta.dirname, '..');
/** TypeScript compiles worker/ and what it imports for the check: seconds, more on a loaded machine. */
const COMPILING_MS = 120_000;

it("today's worker/ holds no data under a name its script renames, nor does src/ name one: the library build renames them", async () => {
  expect(await workerMethods(root)).toEqual(expect.arrayContaining(['tail', 'schedule', 'liveKeys']));
}, COMPILING_MS);

describe('a worker/ module that names with one of them', () => {
  const modules = {
    'a method, its calls, and an option that is a function (declared, passed, read, destructured with a default)': `
      type Schedule = (run: () => void) => void;
      interface Options { schedule?: Schedule | undefined }
      class Log { tail(): number { return 1; } }
      export function use(options: Options, log: Log): number {
        const schedule = options.schedule ?? ((run: () => void) => run());
        const { schedule: again = schedule } = options;
        const passed: Options = { schedule, ...{ schedule: (run: () => void) => run() } };
        again(() => passed.schedule?.(() => {}));
        return log.tail() + new Log().tail();
      }`,
    'the key of a record written to IndexedDB': `export const record = (seq: number) => ({ tail: seq });`,
    'a field of a message it reads': `export const seqOf = (message: { tail: number }) => message.tail;`,
    'a field it destructures from an answer': `export const seqOf = ({ tail: seq }: { tail: string }) => seq;`,
    'a field of its own class': `export class Log { tail = 0; constructor(readonly schedule: string) {} }`,
    'a key it reads by name': `export const has = (record: object) => 'tail' in record;`,
    'an option that holds data': `export interface Options { schedule: number | undefined }`,
  };
  type Module = keyof typeof modules;
  // A project of its own: worker/ the modules, src/ empty, compiled as this one is.
  const project = mkdtempSync(join(tmpdir(), 'reprise-worker-methods-'));
  const fileOf = (what: Module) => join(project, 'worker', `module${Object.keys(modules).indexOf(what)}.ts`);
  let said = '';
  beforeAll(async () => {
    mkdirSync(join(project, 'src'));
    mkdirSync(join(project, 'worker'));
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ extends: join(root, 'tsconfig.json') }));
    for (const [what, source] of Object.entries(modules)) writeFileSync(fileOf(what as Module), source);
    said = await workerMethods(project).then(
      () => 'nothing',
      (error: Error) => error.message,
    );
  }, COMPILING_MS);
  afterAll(() => rmSync(project, { recursive: true, force: true }));
  /** What the build's failure says of the module of `what`, after its file's name. */
  const saidOf = (what: Module) => said.split('\n').flatMap((line) => (line.startsWith(`${fileOf(what)}:`) ? [line.slice(fileOf(what).length)] : []));

  it('as a method, its calls, and an option that is a function (declared, passed, read, destructured with a default): the build goes on', () => {
    expect(saidOf('a method, its calls, and an option that is a function (declared, passed, read, destructured with a default)')).toEqual([]);
  });

  it.each<[Module, string[]]>([
    ['the key of a record written to IndexedDB', [':1: tail, a property of type number']],
    ['a field of a message it reads', [':1: tail, a property of type number', ':1: tail, a property of type number']],
    ['a field it destructures from an answer', [':1: tail, a property of type string', ':1: tail, a property of type string']],
    ['a field of its own class', [':1: tail, a property of type number', ':1: schedule, a property of type string']],
    ['a key it reads by name', [":1: the string 'tail'"]],
    ['an option that holds data', [':1: schedule, a property of type number']],
  ])('as %s: the build fails, saying where', (what, expected) => {
    expect(said).toMatch(/^The worker's script would rename data/);
    expect(saidOf(what)).toEqual(expected);
  });
});
