/**
 * Says, above the view, that what is on screen is no longer live: the link
 * to the gateway dropped (reconnecting) or ended (lost, with the reason),
 * and since when, with a Reconnect button once retrying stopped. While it shows, the workspace is drawn muted and the
 * board's health dots are grey (selectStale), so a frozen board never looks
 * like a healthy one.
 */
import { selectStale } from '../../store/connection';
import { useStore } from '../../store/index';
import { scoped } from '../../shared/scoped';
import styles from './shell.module.css';

const cx = scoped(styles);

export function StaleBanner({ onReconnect }: { onReconnect?: () => void }) {
  const stale = useStore(selectStale);
  const status = useStore((s) => s.status);
  const droppedAt = useStore((s) => s.droppedAt);
  const refusal = useStore((s) => s.refusal);
  if (!stale) return null;
  const when = droppedAt === null ? '' : ` at ${new Date(droppedAt).toLocaleTimeString()}`;
  const retrying = status === 'reconnecting' || status === 'connecting';
  const what = retrying ? `Connection lost${when}; reconnecting…` : `Connection lost${when}${refusal ? `: ${refusal}` : ''}.`;
  return (
    <p className={cx('stale-banner')} data-testid="stale-banner" role="status">
      <strong>{what}</strong> <span>What you see is the cluster as it was then, not now.</span>
      {!retrying && onReconnect && (
        <button type="button" onClick={onReconnect}>
          Reconnect
        </button>
      )}
    </p>
  );
}
