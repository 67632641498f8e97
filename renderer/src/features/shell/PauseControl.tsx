/** Cluster-wide rebalancing pause: shows the state; an operator can pause or resume (confirmed). */
import { useState } from 'react';
import { runCommand } from '../../gateway/client';
import { selectCommandBlock } from '../../store/connection';
import { useStore } from '../../store/index';
import { ConfirmDialog } from '../../shared/ConfirmDialog';
import { scoped } from '../../shared/scoped';

const cx = scoped();

export function PauseControl() {
  const paused = useStore((s) => s.cluster?.paused ?? false);
  const readOnly = useStore((s) => s.cluster?.readOnly ?? true);
  const block = useStore(selectCommandBlock);
  const [asking, setAsking] = useState(false);
  return (
    <>
      {paused && <span className={cx('tag warn')}>rebalancing paused</span>}
      {!readOnly && (
        <button type="button" disabled={block !== null} title={block ?? undefined} onClick={() => setAsking(true)}>
          {paused ? 'Resume rebalancing' : 'Pause rebalancing'}
        </button>
      )}
      {asking && (
        <ConfirmDialog
          title={paused ? 'Resume rebalancing?' : 'Pause rebalancing?'}
          action={paused ? 'Resume' : 'Pause'}
          onCancel={() => setAsking(false)}
          onConfirm={() => {
            setAsking(false);
            void runCommand(paused ? 'resume' : 'pause');
          }}
        >
          {paused
            ? 'Children move again to where placement puts them; moves are rate-limited.'
            : 'Children stay where they run when nodes join; children of a node that dies still restart elsewhere, and pins and drains still act.'}
        </ConfirmDialog>
      )}
    </>
  );
}
