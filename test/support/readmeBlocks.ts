import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** A fenced code block of the README. */
export interface ReadmeBlock {
  /** The fence's language: ts, js, jsx, html, sh… */
  lang: string;
  /** The README line (1-based) of the block's first line of code. */
  line: number;
  code: string;
  /** The `## ` section it sits in. */
  section: string;
}

/** Every fenced code block of the README, in order. */
export function readmeBlocks(text = readFileSync(README, 'utf8')): ReadmeBlock[] {
  const lines = text.split('\n');
  const blocks: ReadmeBlock[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('## ')) section = line.slice(3).trim();
    const open = /^```(\w*)\s*$/.exec(line);
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`README line ${i + 1}: a code block that never ends`);
    blocks.push({ lang: open[1] ?? '', line: i + 2, code: lines.slice(i + 1, end).join('\n'), section });
    i = end;
  }
  return blocks;
}

/** The `<script type="module">` bodies of an HTML block, as blocks of JavaScript. */
export function moduleScripts(block: ReadmeBlock): ReadmeBlock[] {
  const lines = block.code.split('\n');
  return lines.flatMap((line, index) => {
    if (!/<script type="module">\s*$/.test(line)) return [];
    const end = lines.findIndex((other, at) => at > index && other.includes('</script>'));
    return [{ lang: 'js', line: block.line + index + 1, code: lines.slice(index + 1, end).join('\n'), section: block.section }];
  });
}
