/**
 * The Output section of the child detail panel: a live tail of an
 * OS-process child's stdout and stderr.
 *
 * While the section is on screen it watches the child's output through the
 * gateway (gateway/client.ts `watchOutput`): the gateway reads the node the
 * child runs on and pushes new lines, and follows the child when it moves
 * or restarts; output-lines.ts merges what comes into the panel (notes mark
 * a new process and lost lines). Closing the panel, or showing another
 * child, ends the watch, and the gateway stops reading.
 *
 * stderr lines are marked twice: a `stderr` tag before the text (read out
 * by screen readers, visible without colour) and the error colour.
 *
 * Scrolling: the log follows the newest line while it is scrolled to the
 * bottom; scrolled up (to read), it stays put and a button says how many
 * lines came since and jumps back down.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { ChildView } from 'pogo-core/observer-state';
import { watchOutput } from '../../gateway/client';
import { clockTimeMs } from '../../shared/format';
import { applyOutputEvent, emptyPanel, isNearBottom, lineCount, shortPid, type OutputPanel } from './output-lines';
import { scoped } from '../../shared/scoped';
import styles from '../../shared/detail.module.css';

const cx = scoped(styles);

const STATUS_TEXT: Record<NonNullable<OutputPanel['status']>['state'], string> = {
  'not-running': 'Not running',
  unavailable: 'Cannot read the output right now',
  gone: 'Gone',
  refused: 'No live output',
};

function OutputLog({ id, panel }: { id: string; panel: OutputPanel }) {
  const box = useRef<HTMLDivElement>(null);
  /** Following the newest line (the log is scrolled to the bottom). */
  const [stick, setStick] = useState(true);
  /** The newest entry the user had seen when they scrolled up. */
  const [seenKey, setSeenKey] = useState(0);
  const lastKey = panel.entries.at(-1)?.key ?? 0;

  useLayoutEffect(() => {
    const el = box.current;
    if (el && stick) el.scrollTop = el.scrollHeight;
  }, [lastKey, stick]);

  const onScroll = (): void => {
    const el = box.current;
    if (!el) return;
    const bottom = isNearBottom(el.scrollTop, el.scrollHeight, el.clientHeight);
    if (bottom !== stick) {
      setStick(bottom);
      if (!bottom) setSeenKey(lastKey);
    }
  };

  const unseen = stick ? 0 : panel.entries.filter((e) => e.kind === 'line' && e.key > seenKey).length;
  return (
    <div className={cx('output-wrap')}>
      <div className={cx('output')} role="log" aria-label={`Output of ${id}`} ref={box} onScroll={onScroll} data-testid="output-log">
        {panel.entries.map((e) =>
          e.kind === 'note' ? (
            <div key={e.key} className={cx('output-note')}>
              {e.text}
            </div>
          ) : (
            <div key={e.key} className={cx('output-line', e.stream === 'stderr' && 'stderr')} title={`${clockTimeMs(e.at)} ${e.stream}`} data-stream={e.stream}>
              {e.stream === 'stderr' ? (
                <span className={cx('stream-mark')} data-testid="stream-mark">
                  stderr
                </span>
              ) : (
                <span className={cx('stream-mark-none')} aria-hidden="true" />
              )}
              <span className={cx('output-text')} data-testid="output-text">
                {e.text}
              </span>
            </div>
          ),
        )}
      </div>
      {!stick && (
        <button
          type="button"
          className={cx('output-jump')}
          onClick={() => {
            setStick(true);
            const el = box.current;
            if (el) el.scrollTop = el.scrollHeight;
          }}
        >
          {unseen > 0 ? `↓ ${unseen} new line${unseen === 1 ? '' : 's'}` : '↓ Follow the newest'}
        </button>
      )}
    </div>
  );
}

export function OutputSection({ id, child }: { id: string; child: ChildView }) {
  const isProcess = child.command !== null;
  const [panel, setPanel] = useState<OutputPanel>(emptyPanel);

  useEffect(() => {
    if (!isProcess) return undefined;
    setPanel(emptyPanel());
    return watchOutput(id, (event) => setPanel((p) => applyOutputEvent(p, event)));
  }, [id, isProcess]);

  const status = panel.status;
  const live = isProcess && status === null && panel.node !== null;
  return (
    <section className={cx('detail-section')} aria-label="Output">
      <div className={cx('section-head')}>
        <h3>Output</h3>
        {live && (
          <span className={cx('live-tag')} title="New lines appear as the child writes them">
            <span className={cx('live-dot')} aria-hidden="true" />
            live
          </span>
        )}
      </div>
      {!isProcess ? (
        <p className={cx('muted')}>
          A worker runs inside its node&apos;s process: there is no captured output. Only OS-process children (a command) have their stdout and stderr kept.
        </p>
      ) : (
        <>
          {panel.node !== null && (
            <p className={cx('muted output-source')}>
              From {panel.node}, process {shortPid(panel.pid!)} · last {lineCount(panel)} lines · <span className={cx('stream-mark')}>stderr</span> marks the
              error stream
            </p>
          )}
          {panel.entries.length > 0 && <OutputLog id={id} panel={panel} />}
          {status && (
            <p className={cx(status.state === 'refused' || status.state === 'unavailable' ? 'detail-error' : 'muted')} role="status">
              {STATUS_TEXT[status.state]}: {status.message}
            </p>
          )}
          {!status && panel.node === null && <p className={cx('muted')}>Connecting to the output…</p>}
          {!status && panel.node !== null && panel.entries.length === 0 && (
            <p className={cx('muted')}>No output yet: lines appear here as the child writes them.</p>
          )}
        </>
      )}
    </section>
  );
}
