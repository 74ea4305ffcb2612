// Tiny DOM helpers: elements are built with properties (text goes in as text, never as HTML).

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  Object.assign(element, props);
  return element;
}

export function clear(element: Element): void {
  element.replaceChildren();
}
