/**
 * Shared set-up for the renderer's component tests (vitest + happy-dom).
 *
 * Call `mountPerTest()` inside a `describe` block: each test gets a fresh
 * container div in document.body and a React root on it; afterwards the root
 * is unmounted, the container removed and the store reset.
 */
import { act, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach } from 'vitest';
import { resetStore } from './store/index';

// Tell React this environment supports act() (no "not configured" warning).
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

export interface Mounted {
  readonly container: HTMLDivElement;
  readonly root: Root;
  /** `act(() => root.render(node))`. */
  render(node: ReactNode): void;
  /** Unmount the current root and create a fresh one on the same container. */
  remount(): void;
}

export function mountPerTest(options: { after?: () => void } = {}): Mounted {
  let container: HTMLDivElement | undefined;
  let root: Root | undefined;

  beforeEach(() => {
    container = document.createElement('div');
    document.body.appendChild(container);
    root = createRoot(container);
  });

  afterEach(() => {
    act(() => root!.unmount());
    container!.remove();
    resetStore();
    options.after?.();
  });

  return {
    get container() {
      return container!;
    },
    get root() {
      return root!;
    },
    render(node) {
      act(() => root!.render(node));
    },
    remount() {
      act(() => root!.unmount());
      root = createRoot(container!);
    },
  };
}

/** Type into a controlled <input> or <textarea>: set the value as the DOM would and fire `input`. */
export function typeInto(input: HTMLInputElement | HTMLTextAreaElement, value: string): void {
  const proto = input instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(input, value);
  input.dispatchEvent(new Event('input', { bubbles: true }));
}
