import { element } from './element';

export interface Totals {
  hits: number;
  misses: number;
}

/** One point per sample; the rate at each is over the reads of the last `window` samples. */
const SAMPLES = 120;
const WINDOW = 6;
const WIDTH = 320;
const HEIGHT = 104;
const PLOT = { left: 30, right: 6, top: 8, bottom: 20 };

const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number> = {}, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * The hit rate over time, as an inline SVG line (no chart library): each sample takes the hits and
 * misses counted since the previous one (deltas of `stats()` totals over every content type), and
 * plots the rate over the last few samples; bars underneath show how many reads there were. Gaps
 * mean no reads.
 */
export class HitRateChart {
  readonly element: HTMLElement;
  readonly #line = svg('path', { class: 'chart-line', fill: 'none' });
  readonly #area = svg('path', { class: 'chart-area' });
  readonly #bars = svg('g', { class: 'chart-bars' });
  readonly #summary = element('p', { class: 'chart-summary' });
  readonly #deltas: Totals[] = [];
  readonly #periodMs: number;
  #last: Totals | null = null;

  /** `periodMs`: how often `sample` is called. */
  constructor(periodMs: number) {
    this.#periodMs = periodMs;
    const plot = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': 'Hit rate over time', class: 'chart' });
    for (const rate of [0, 0.5, 1]) {
      const y = yOf(rate);
      plot.append(svg('line', { class: 'chart-grid', x1: PLOT.left, x2: WIDTH - PLOT.right, y1: y, y2: y }));
      plot.append(svg('text', { class: 'chart-label', x: PLOT.left - 4, y: y + 3, 'text-anchor': 'end' }, `${rate * 100}%`));
    }
    const seconds = Math.round((SAMPLES * periodMs) / 1000);
    plot.append(svg('text', { class: 'chart-label', x: PLOT.left, y: HEIGHT - 5 }, `−${seconds} s`));
    plot.append(svg('text', { class: 'chart-label', x: WIDTH - PLOT.right, y: HEIGHT - 8, 'text-anchor': 'end' }, 'now'));
    plot.append(this.#bars, this.#area, this.#line);
    this.element = element('figure', { class: 'chart-figure' }, plot, this.#summary);
    this.#draw({ hits: 0, misses: 0 });
  }

  /** Adds a sample from the running totals of hits and misses. */
  sample(totals: Totals): void {
    const last = this.#last ?? totals;
    this.#last = totals;
    // Counters only grow within one engine; a restarted worker starts again from zero.
    this.#deltas.push({ hits: Math.max(0, totals.hits - last.hits), misses: Math.max(0, totals.misses - last.misses) });
    if (this.#deltas.length > SAMPLES) this.#deltas.shift();
    this.#draw(totals);
  }

  #draw(totals: Totals): void {
    const step = (WIDTH - PLOT.left - PLOT.right) / (SAMPLES - 1);
    const offset = SAMPLES - this.#deltas.length;
    const xOf = (index: number) => PLOT.left + (offset + index) * step;
    const rates = this.#deltas.map((_, index) => {
      const recent = this.#deltas.slice(Math.max(0, index - WINDOW + 1), index + 1);
      const hits = recent.reduce((sum, delta) => sum + delta.hits, 0);
      const reads = recent.reduce((sum, delta) => sum + delta.hits + delta.misses, 0);
      return reads ? hits / reads : null;
    });
    let line = '';
    let area = '';
    let run: number[] = [];
    const closeRun = () => {
      if (run.length) {
        const first = run[0]!;
        const last = run[run.length - 1]!;
        area += `M${xOf(first)},${yOf(0)}` + run.map((index) => `L${xOf(index)},${yOf(rates[index]!)}`).join('') + `L${xOf(last)},${yOf(0)}Z`;
      }
      run = [];
    };
    rates.forEach((rate, index) => {
      if (rate === null) return closeRun();
      line += `${run.length ? 'L' : 'M'}${xOf(index)},${yOf(rate)}`;
      run.push(index);
    });
    closeRun();
    this.#line.setAttribute('d', line);
    this.#area.setAttribute('d', area);

    const reads = this.#deltas.map((delta) => delta.hits + delta.misses);
    const most = Math.max(1, ...reads);
    this.#bars.replaceChildren(
      ...reads.flatMap((count, index) => {
        if (!count) return [];
        const height = (count / most) * 22;
        return [svg('rect', { x: xOf(index) - step / 2, y: yOf(0) - height, width: Math.max(1, step - 0.5), height })];
      }),
    );

    const windowHits = this.#deltas.reduce((sum, delta) => sum + delta.hits, 0);
    const windowReads = reads.reduce((sum, count) => sum + count, 0);
    const all = totals.hits + totals.misses;
    this.#summary.replaceChildren(
      element('strong', {}, windowReads ? `${Math.round((windowHits / windowReads) * 100)}%` : '—'),
      ` over the last ${Math.round((this.#deltas.length * this.#periodMs) / 1000)} s · `,
      `${all ? Math.round((totals.hits / all) * 100) : 0}% since this tab opened`,
    );
  }
}

function yOf(rate: number): number {
  return PLOT.top + (1 - rate) * (HEIGHT - PLOT.top - PLOT.bottom);
}
