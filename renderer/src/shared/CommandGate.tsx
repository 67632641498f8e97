/**
 * Commands that change the cluster, disabled with the reason while no
 * command can reach it (store/connection.ts `selectCommandBlock`: the
 * gateway is linked to no member). A fieldset, so every button and field
 * inside is disabled at once, and none is forgotten; `note` says why above
 * them (detail panels), the tooltip says it everywhere.
 */
import type { ReactNode } from 'react';
import { selectCommandBlock } from '../store/connection';
import { useStore } from '../store/index';
import { scoped } from './scoped';

const cx = scoped();

export function CommandGate({ children, note = false }: { children: ReactNode; note?: boolean }) {
  const block = useStore(selectCommandBlock);
  return (
    <fieldset className={cx('command-gate')} disabled={block !== null} title={block ?? undefined} data-testid="command-gate">
      {note && block !== null && (
        <p className={cx('command-gate-note')} role="note">
          {block}
        </p>
      )}
      {children}
    </fieldset>
  );
}
