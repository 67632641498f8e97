/**
 * Parts the detail panels (child, node) share: a labelled fact of their
 * `fields` list (a `<dl>`) and the close button (Escape does the same).
 */
import type { ReactNode } from 'react';
import { useStore } from '../store/index';
import { scoped } from './scoped';
import styles from './detail.module.css';

const cx = scoped(styles);

export function DetailField({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

export function CloseButton() {
  return (
    <button type="button" className={cx('detail-close')} aria-label="Close" title="Close (Escape)" onClick={() => useStore.getState().select(null)}>
      ×
    </button>
  );
}
