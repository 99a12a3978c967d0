import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as ts from 'typescript';

/**
 * Methods of the worker's own classes, and functions its classes take as options, that only the worker's
 * script calls: their names shortened in it (vite.config.ts, `compressed`: the minifiers keep property
 * names; 0.24 kB min + gzip). A function is what no message and no IndexedDB record can hold: its name
 * crosses no boundary unless the page calls it, through Comlink, by name. Never a field that holds data:
 * renamed in the worker only, a record an older build wrote, a message or an answer would no longer match.
 */
const METHODS = [
  ...['afterImports', 'backWithin', 'roomAfterImport', 'shrinkInSteps', 'sweepImports', 'writeUnderImports'], // Imports
  ...['liveKeys', 'trimCommitMarks', 'writeReadTimes', 'shrink'], // IdbStore, MemoryStore
  ...['byStore', 'cannotTell', 'degradeOrThrow', 'invalidateMemory', 'persistentTypes', 'toldMemory', 'withStore'], // Stores
  ...['afterReading', 'transact', 'ensureEpoch', 'epochOf', 'headIn', 'readChanges', 'readEpoch', 'tail'], // Database, EventLog
  ...['announce', 'applyShared', 'lostLog', 'publish', 'writeInto'], // TabSync, CrossTabChanges, ReadTimes
  ...['deliver', 'intervalSeconds', 'placed', 'schedule'], // options of ChangeFeed, PeriodicCleanup, TabSync, IdbStore…
];

/**
 * The names the worker's script renames, once checked: the build fails if a file in `root`'s src/ (the
 * page's code and the protocol's types) names one, or one in its worker/ names data with one (see dataFields).
 */
export async function workerMethods(root: string): Promise<string[]> {
  const files = (folder: string) =>
    readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.ts'))
      .map((name) => join(root, folder, name));
  for (const file of files('src')) {
    const named = METHODS.find((method) => new RegExp(`\\b${method}\\b`).test(readFileSync(file, 'utf8')));
    if (named) throw new Error(`${file} names ${named}, which the worker's script renames (build/workerMethods.ts)`);
  }
  const data = await dataFields(files('worker'), METHODS, join(root, 'tsconfig.json'));
  if (data.length) throw new Error(`The worker's script would rename data (build/workerMethods.ts):\n${data.join('\n')}`);
  return METHODS;
}

/**
 * Where `files` (compiled as `tsconfig` says) name with one of `names` a property that may hold data: one
 * whose type is no function, declared, written, read or destructured (a record's key, a message's field, a
 * class field, an option); methods, their calls and options that are functions pass. And any string that is
 * one: Terser renames it where it names a property (`record['tail']`, `'tail' in record`, a quoted key).
 */
async function dataFields(files: readonly string[], names: readonly string[], tsconfig: string): Promise<string[]> {
  const { default: ts } = await import('typescript');
  const { options } = ts.parseJsonConfigFileContent(ts.readConfigFile(tsconfig, ts.sys.readFile).config, ts.sys, dirname(tsconfig));
  const program = ts.createProgram(files, options);
  const checker = program.getTypeChecker();
  const listed = new Set(names);
  /** The node that has the property's type, where `name` names a property: a binding's own name (`{ tail: seq } = …`). */
  const typed = (name: ts.Identifier): ts.Node | undefined => {
    const { parent } = name;
    if (ts.isBindingElement(parent)) return ts.isObjectBindingPattern(parent.parent) && (parent.propertyName ?? parent.name) === name ? parent.name : undefined;
    const member =
      ts.isPropertyAccessExpression(parent) || ts.isObjectLiteralElement(parent) || ts.isClassElement(parent) || ts.isParameterPropertyDeclaration(parent, parent.parent) || ts.isTypeElement(parent) || ts.isEnumMember(parent);
    return member && parent.name === name ? name : undefined;
  };
  const callable = (type: ts.Type): boolean => (type.isUnion() ? type.types.every(callable) : type.getCallSignatures().length > 0);
  const found: string[] = [];
  for (const file of files) {
    const source = program.getSourceFile(file)!;
    const at = (node: ts.Node) => `${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
    const visit = (node: ts.Node): void => {
      const property = ts.isIdentifier(node) && listed.has(node.text) && typed(node);
      const type = property && checker.getNonNullableType(checker.getTypeAtLocation(property));
      if (type && !callable(type)) found.push(`${at(node)}: ${node.text}, a property of type ${checker.typeToString(type)}`);
      if (ts.isStringLiteralLike(node) && listed.has(node.text)) found.push(`${at(node)}: the string '${node.text}'`);
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}
