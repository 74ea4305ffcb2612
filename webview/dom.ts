// Tiny DOM helpers: elements are built with properties (text goes in as text, never as HTML).

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  Object.assign(element, props);
  return element;
}

export function clear(element: Element): void {
  element.replaceChildren();
}

/** A VS Code button; secondary unless it is the lead action. */
export function button(label: string, onClick: () => void, options: { secondary?: boolean; title?: string; pressed?: boolean; hidden?: boolean } = {}): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  if (options.secondary) b.setAttribute('secondary', '');
  if (options.title) b.setAttribute('title', options.title);
  if (options.pressed !== undefined) b.setAttribute('aria-pressed', String(options.pressed));
  if (options.hidden) b.hidden = true;
  b.addEventListener('click', onClick);
  return b;
}
