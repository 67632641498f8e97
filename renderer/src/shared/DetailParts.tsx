/**
 * Parts the detail panels (child, node) share: a labelled field of their
 * `<dl className="fields">` and the close button (Escape does the same).
 */
import type { ReactNode } from 'react';
import { useStore } from '../store/index';

export function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

export function CloseButton() {
  return (
    <button type="button" className="detail-close" aria-label="Close" title="Close (Escape)" onClick={() => useStore.getState().select(null)}>
      ×
    </button>
  );
}
