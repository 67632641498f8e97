/**
 * Connection-state badge for the header: always visible (DESIGN §4,
 * "connection state always visible"). Reads the connection slice only.
 */
import { selectConnectionStatus, type ConnectionStatus } from '../store/connection';
import { useStore } from '../store/index';

const LABELS: Record<ConnectionStatus, string> = {
  disconnected: 'not connected',
  connecting: 'connecting…',
  connected: 'connected',
  reconnecting: 'reconnecting…',
  lost: 'connection lost',
};

export function ConnectionBadge() {
  const status = useStore(selectConnectionStatus);
  return (
    <span className="badge" data-status={status} data-testid="connection-badge" role="status" aria-live="polite">
      <span className="badge-dot" aria-hidden="true" />
      {LABELS[status]}
    </span>
  );
}
