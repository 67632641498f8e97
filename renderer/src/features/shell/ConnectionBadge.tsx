/**
 * Connection-state badge for the header: always visible (DESIGN §4,
 * "connection state always visible"). Its tooltip also counts the observer
 * and `pogo ctl` sessions the gateway has seen join (the state's
 * `sessions`): they are not cluster events, so they stay off the timeline
 * and are only counted here, quietly.
 *
 * Connected to the gateway is not connected to the cluster: while the
 * gateway is linked to no member (`noMemberSince`), the badge says so, in
 * the warning colour, with since when, instead of a green "connected".
 */
import { clockTime } from '../../shared/format';
import { selectConnectionStatus, selectNoMemberSince, type ConnectionStatus } from '../../store/connection';
import { useStore } from '../../store/index';
import { scoped } from '../../shared/scoped';
import styles from './shell.module.css';

const cx = scoped(styles);

const LABELS: Record<ConnectionStatus, string> = {
  disconnected: 'not connected',
  connecting: 'connecting…',
  connected: 'connected',
  reconnecting: 'reconnecting…',
  lost: 'connection lost',
};

/** "3 observer or pogo ctl sessions have joined since the gateway started". */
export function sessionsText(sessions: number): string {
  return `${sessions} observer or pogo ctl ${sessions === 1 ? 'session has' : 'sessions have'} joined since the gateway started`;
}

/** What the badge says while the gateway is up but linked to no member. */
export function noMemberText(since: number): string {
  return `connected to the gateway — no cluster member reachable since ${clockTime(since)}`;
}

export function ConnectionBadge() {
  const status = useStore(selectConnectionStatus);
  const sessions = useStore((s) => s.cluster?.sessions);
  const noMember = useStore(selectNoMemberSince);
  const label = noMember === null ? LABELS[status] : noMemberText(noMember);
  return (
    <span
      className={cx('badge')}
      data-status={noMember === null ? status : 'no-member'}
      data-testid="connection-badge"
      role="status"
      aria-live="polite"
      title={sessions === undefined ? undefined : `${label} · ${sessionsText(sessions)}`}
    >
      <span className={cx('badge-dot')} aria-hidden="true" />
      {label}
    </span>
  );
}
