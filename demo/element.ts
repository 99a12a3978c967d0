type Child = Node | string | number | null | undefined | false;
type Attribute = string | number | boolean | null | undefined;

/**
 * Creates an element from attributes and children. Strings become text nodes, so data from the
 * library, the simulated API or another tab is never parsed as HTML. `false`, `null` and `undefined`
 * attributes and children are left out; `true` sets an empty attribute.
 */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, Attribute> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === false || child === null || child === undefined) continue;
    node.append(typeof child === 'number' ? String(child) : child);
  }
  return node;
}
