/**
 * What this session may do, always visible: operator, locked (an operator session that dropped its rights),
 * viewer (read-only), or read-only without a credential.
 */
import type { Access } from 'pogo-core/observer-state';
import { scoped } from '../../shared/scoped';

const cx = scoped();

const LABELS: Record<Access, { text: string; title: string }> = {
  operator: { text: 'operator', title: 'This session can change the cluster; every command asks for confirmation and is audited.' },
  locked: {
    text: 'locked · read-only',
    title: 'An operator session, locked: it watches the cluster and reads the audit log; changes are refused until you unlock it.',
  },
  viewer: { text: 'viewer · read-only', title: 'A viewer credential: you can watch the cluster and read the audit log, not change it.' },
  none: { text: 'read-only', title: 'No credential: enter an operator token to change the cluster, or a viewer token to read the audit log.' },
};

export function AccessTag({ access }: { access: Access }) {
  return (
    <span className={cx(`tag access-${access}`)} data-testid="access" title={LABELS[access].title}>
      {LABELS[access].text}
    </span>
  );
}
