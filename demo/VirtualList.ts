import { element } from './element';

export interface VirtualListOptions<T> {
  /** The list's accessible name. */
  label: string;
  /** Every row has this height, in CSS pixels: what lets the list compute which rows are visible. */
  rowHeight: number;
  /** The id of an item's row element (unique in the document). */
  rowId: (item: T) => string;
  /** Fills a row for the item at `index`; called again for rendered rows by `refresh`. */
  renderRow: (row: HTMLElement, item: T, index: number) => void;
  /** The user chose an item: click, Enter or Space. */
  onChoose: (item: T) => void;
}

/** Rows rendered above and below the visible ones, so fast scrolling shows no gaps. */
const OVERSCAN = 6;

/**
 * A list box that renders only the rows in view (plus a few), however many items it has, so it
 * scrolls smoothly through thousands. Keyboard: ↑ ↓ Page Up/Down Home End move the active row,
 * Enter or Space chooses it (`aria-activedescendant`, so focus stays on the list).
 */
export class VirtualList<T> {
  readonly element: HTMLDivElement;
  readonly #options: VirtualListOptions<T>;
  readonly #spacer: HTMLDivElement;
  readonly #rows = new Map<number, HTMLElement>();
  #items: readonly T[] = [];
  #active = 0;
  #chosen: number | null = null;
  #frame = 0;

  constructor(options: VirtualListOptions<T>) {
    this.#options = options;
    this.#spacer = element('div', { class: 'vlist-spacer', role: 'presentation' });
    this.element = element('div', { class: 'vlist', role: 'listbox', tabindex: 0, 'aria-label': options.label }, this.#spacer);
    this.element.addEventListener('scroll', () => this.#schedule());
    this.element.addEventListener('keydown', (event) => this.#onKey(event));
    this.element.addEventListener('click', (event) => {
      const row = (event.target as Element).closest<HTMLElement>('[role="option"]');
      if (row?.dataset['index'] !== undefined) this.#choose(Number(row.dataset['index']));
    });
    new ResizeObserver(() => this.#schedule()).observe(this.element);
  }

  setItems(items: readonly T[]): void {
    this.#items = items;
    this.#active = Math.min(this.#active, Math.max(items.length - 1, 0));
    this.#spacer.style.height = `${items.length * this.#options.rowHeight}px`;
    for (const row of this.#rows.values()) row.remove();
    this.#rows.clear();
    this.#render();
  }

  /** Renders the rows in view again (after their items changed). */
  refresh(): void {
    for (const [index, row] of this.#rows) this.#fill(row, index);
  }

  /** The items whose rows are (at least partly) in view. */
  visibleItems(): T[] {
    const [start, end] = this.#range(0);
    return this.#items.slice(start, end);
  }

  #choose(index: number): void {
    const item = this.#items[index];
    if (item === undefined) return;
    this.#moveTo(index);
    this.#chosen = index;
    this.refresh();
    this.#options.onChoose(item);
  }

  #onKey(event: KeyboardEvent): void {
    const page = Math.max(1, Math.floor(this.element.clientHeight / this.#options.rowHeight) - 1);
    const moves: Record<string, number> = {
      ArrowDown: this.#active + 1,
      ArrowUp: this.#active - 1,
      PageDown: this.#active + page,
      PageUp: this.#active - page,
      Home: 0,
      End: this.#items.length - 1,
    };
    const target = moves[event.key];
    if (target !== undefined) this.#moveTo(Math.max(0, Math.min(this.#items.length - 1, target)));
    else if (event.key === 'Enter' || event.key === ' ') this.#choose(this.#active);
    else return;
    event.preventDefault();
  }

  /** Makes a row the active one and scrolls it into view. */
  #moveTo(index: number): void {
    this.#active = index;
    const { rowHeight } = this.#options;
    const top = index * rowHeight;
    if (top < this.element.scrollTop) this.element.scrollTop = top;
    else if (top + rowHeight > this.element.scrollTop + this.element.clientHeight) {
      this.element.scrollTop = top + rowHeight - this.element.clientHeight;
    }
    this.#render();
  }

  #schedule(): void {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#render();
    });
  }

  /** The first and one-past-last indexes of the rows in view, widened by `overscan` rows. */
  #range(overscan: number): [number, number] {
    const { rowHeight } = this.#options;
    const { scrollTop, clientHeight } = this.element;
    const start = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
    const end = Math.min(this.#items.length, Math.ceil((scrollTop + clientHeight) / rowHeight) + overscan);
    return [start, end];
  }

  /** Adds the rows that came into view, drops those that left; the active row always stays rendered. */
  #render(): void {
    const [start, end] = this.#range(OVERSCAN);
    const wanted = (index: number) => (index >= start && index < end) || index === this.#active;
    for (const [index, row] of this.#rows) {
      if (!wanted(index)) {
        row.remove();
        this.#rows.delete(index);
      }
    }
    const indexes = [...Array(end - start).keys()].map((offset) => start + offset);
    if (this.#items.length && !indexes.includes(this.#active)) indexes.push(this.#active);
    for (const index of indexes) {
      if (this.#rows.has(index)) continue;
      const row = element('div', { role: 'option', class: 'vlist-row', 'data-index': index, 'aria-setsize': this.#items.length, 'aria-posinset': index + 1 });
      row.style.transform = `translateY(${index * this.#options.rowHeight}px)`;
      row.style.height = `${this.#options.rowHeight}px`;
      this.#fill(row, index);
      this.#rows.set(index, row);
      this.element.append(row);
    }
    for (const [index, row] of this.#rows) row.classList.toggle('active', index === this.#active);
    const active = this.#items[this.#active];
    if (active === undefined) this.element.removeAttribute('aria-activedescendant');
    else this.element.setAttribute('aria-activedescendant', this.#options.rowId(active));
  }

  #fill(row: HTMLElement, index: number): void {
    const item = this.#items[index];
    if (item === undefined) return;
    row.id = this.#options.rowId(item);
    row.setAttribute('aria-selected', String(index === this.#chosen));
    this.#options.renderRow(row, item, index);
  }
}
