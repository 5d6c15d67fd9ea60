// A few DOM helpers: the pages are static HTML that the views fill in.

type Child = Node | string;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/** The element with this id, which the page must have, of the expected kind. */
export function byId<T extends HTMLElement>(id: string, kind: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof kind)) throw new Error(`the page has no ${kind.name} #${id}`);
  return found;
}

type Kinds = Record<string, new () => HTMLElement>;

/** A view's elements at once: `name` is the element `#<view>-<name>`, of its kind. */
export function parts<T extends Kinds>(view: string, kinds: T): { [K in keyof T]: InstanceType<T[K]> } {
  const found: Partial<Record<keyof T, HTMLElement>> = {};
  for (const [name, kind] of Object.entries(kinds)) found[name as keyof T] = byId(`${view}-${name}`, kind);
  return found as { [K in keyof T]: InstanceType<T[K]> };
}

export function table(
  head: readonly string[],
  rows: readonly (readonly Child[])[],
  numeric: (column: number) => boolean,
): HTMLTableElement {
  const cell = (tag: "th" | "td", child: Child, column: number): HTMLElement =>
    h(tag, numeric(column) ? { class: "num" } : {}, child);
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, ...head.map((text, i) => cell("th", text, i)))),
    h("tbody", {}, ...rows.map((row) => h("tr", {}, ...row.map((child, i) => cell("td", child, i))))),
  );
}

/** Reloads a view when any of its controls changes, or its form is submitted (Enter, Update). */
export function onEdit(form: HTMLFormElement, load: () => Promise<void>): void {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void load();
  });
  form.addEventListener("change", () => void load());
}
