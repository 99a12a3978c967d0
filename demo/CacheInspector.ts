import type { CacheStats, SmartCacheConfig, TypeName, TypeStats } from '../src/index';
import { element } from './element';
import { formatBytes } from './formatBytes';

type Counter = 'entries' | 'hits' | 'misses' | 'invalidations' | 'evictions' | 'expirations';

/** The counters shown after the bytes, with a short column label and its full name. */
const COUNTERS: readonly { stat: Counter; label: string; title: string }[] = [
  { stat: 'hits', label: 'Hits', title: 'Hits' },
  { stat: 'misses', label: 'Misses', title: 'Misses' },
  { stat: 'invalidations', label: 'Inval.', title: 'Entries removed by events (and fingerprint mismatches)' },
  { stat: 'evictions', label: 'Evict.', title: 'Entries evicted to stay within the budget' },
  { stat: 'expirations', label: 'Exp.', title: 'Entries removed because their TTL ran out' },
];

interface TypeRow {
  cells: Map<Counter | 'bytes', HTMLElement>;
  storage: HTMLElement;
  bar: HTMLElement;
  fill: HTMLElement;
  bytes: HTMLElement;
}

/**
 * One row per content type: its policy (TTL and stale-while-revalidate window, strategy, budget and cleanup threshold, all read from the
 * `SmartCacheConfig` the cache was opened with) and its live numbers from `stats()`, with the bytes
 * drawn against the budget. Every number is in a cell with `data-stat` and its raw `data-value`.
 */
export class CacheInspector {
  readonly element: HTMLTableElement;
  readonly #rows = new Map<TypeName, TypeRow>();
  readonly #total = new Map<Counter | 'bytes', HTMLElement>();

  constructor(config: SmartCacheConfig<string>) {
    const body = element('tbody');
    for (const policy of Object.values(config.getAllPolicies())) {
      const type = policy.contentType;
      const storage = element('span', { class: 'storage' }, config.isPersistent(type) ? 'IndexedDB' : 'memory');
      const fill = element('span', { class: 'bar-fill' });
      const threshold = element('span', { class: 'bar-threshold', title: `cleanup threshold ${Math.round(policy.cleanupThreshold * 100)}%` });
      threshold.style.left = `${policy.cleanupThreshold * 100}%`;
      const bar = element('span', { class: 'bar', role: 'meter', 'aria-label': `${type} bytes used of its budget`, 'aria-valuemin': 0 }, fill, threshold);
      const bytes = element('span', { class: 'bar-text' });
      const cells = new Map<Counter | 'bytes', HTMLElement>();
      const cell = (stat: Counter | 'bytes', ...children: Node[]) => {
        const td = element('td', { 'data-stat': stat, 'data-value': 0, class: stat === 'bytes' ? 'bytes' : 'number' }, ...children);
        cells.set(stat, td);
        return td;
      };
      body.append(
        element(
          'tr',
          { 'data-type': type, title: policy.description },
          element('th', { scope: 'row' }, element('code', {}, type), storage, policy.persistent === undefined ? null : element('span', { class: 'custom' }, 'custom type')),
          element(
            'td',
            { class: 'policy' },
            element('span', { 'data-policy': 'ttl' }, config.formatTtl(policy.ttlSeconds)),
            policy.staleWhileRevalidateSeconds > 0
              ? element('span', { 'data-policy': 'stale', title: 'served stale while it is refreshed, this long past its TTL' }, `+${config.formatTtl(policy.staleWhileRevalidateSeconds)} stale`)
              : null,
            element('span', { 'data-policy': 'strategy', class: `strategy strategy-${policy.invalidationStrategy}` }, policy.invalidationStrategy),
          ),
          cell('entries', document.createTextNode('0')),
          cell('bytes', bar, bytes),
          ...COUNTERS.map(({ stat }) => cell(stat, document.createTextNode('0'))),
        ),
      );
      this.#rows.set(type, { cells, storage, bar, fill, bytes });
    }
    const totals = element('tr', { 'data-type': 'total' }, element('th', { scope: 'row', colspan: 2 }, 'All types'));
    for (const stat of ['entries', 'bytes', ...COUNTERS.map(({ stat }) => stat)] as const) {
      const td = element('td', { 'data-stat': stat, 'data-value': 0, class: 'number' }, '0');
      this.#total.set(stat, td);
      totals.append(td);
    }
    this.element = element(
      'table',
      { class: 'inspector' },
      element(
        'caption',
        {},
        'Per content type: policy from the SmartCacheConfig, live numbers from stats() in this tab. IndexedDB’s entries and bytes are shared by your tabs; ',
        'the counters are this tab’s own: an event’s removals from IndexedDB count in the tab that emitted it, though every tab’s log lists them. ',
        element(
          'span',
          { class: 'budget-note' },
          'The demo’s budgets are deliberately small (KiB, where the library’s defaults are MB) so that a few hundred lookups reach the cleanup threshold and you can watch eviction.',
        ),
      ),
      element(
        'thead',
        {},
        element(
          'tr',
          {},
          ...['Content type', 'TTL · strategy', 'Entries', 'Bytes of budget'].map((label) => element('th', { scope: 'col' }, label)),
          ...COUNTERS.map(({ label, title }) =>
            element('th', { scope: 'col', class: 'number' }, label === title ? label : element('abbr', { title }, label)),
          ),
        ),
      ),
      body,
      element('tfoot', {}, totals),
    );
  }

  update(stats: CacheStats<string>): void {
    const totals = new Map<Counter | 'bytes', number>();
    for (const [type, row] of this.#rows) {
      const numbers = stats.types[type];
      if (!numbers) continue;
      for (const stat of ['entries', ...COUNTERS.map(({ stat }) => stat)] as const) {
        setNumber(row.cells.get(stat), numbers[stat], String(numbers[stat]));
        totals.set(stat, (totals.get(stat) ?? 0) + numbers[stat]);
      }
      totals.set('bytes', (totals.get('bytes') ?? 0) + numbers.bytes);
      this.#updateBytes(row, numbers);
      row.storage.textContent = numbers.storage === 'indexeddb' ? 'IndexedDB' : 'memory';
    }
    for (const [stat, cell] of this.#total) {
      const value = totals.get(stat) ?? 0;
      setNumber(cell, value, stat === 'bytes' ? formatBytes(value) : String(value));
    }
  }

  #updateBytes(row: TypeRow, { bytes, maxBytes }: TypeStats): void {
    const share = maxBytes ? Math.min(1, bytes / maxBytes) : 0;
    row.fill.style.width = `${share * 100}%`;
    row.bar.classList.toggle('bar-high', share >= 0.75);
    row.bar.setAttribute('aria-valuenow', String(bytes));
    if (maxBytes === null) row.bar.removeAttribute('aria-valuemax');
    else row.bar.setAttribute('aria-valuemax', String(maxBytes));
    row.bar.setAttribute('aria-valuetext', `${formatBytes(bytes)} of ${maxBytes === null ? 'no budget' : formatBytes(maxBytes)}`);
    row.bytes.textContent = `${formatBytes(bytes)} / ${maxBytes === null ? '∞' : formatBytes(maxBytes)}`;
    const cell = row.cells.get('bytes');
    if (cell) cell.dataset['value'] = String(bytes);
  }
}

function setNumber(cell: HTMLElement | undefined, value: number, text: string): void {
  if (!cell) return;
  cell.dataset['value'] = String(value);
  cell.classList.toggle('zero', value === 0);
  if (cell.textContent !== text) cell.textContent = text;
}
