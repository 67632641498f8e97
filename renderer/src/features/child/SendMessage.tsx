/**
 * "Send message" in the child detail panel (operators only: a call is a
 * command, audited with the operator's name). The operator types a JSON
 * message and, optionally, a timeout; the reply is shown with the node and
 * instance that gave it and the round trip as this window measured it, or
 * the typed failure in words (message-call.ts). A call to a child between
 * instances waits for the next one within its timeout, so sending is
 * offered whatever the child's status.
 */
import { useId, useState } from 'react';
import { sendCommand } from '../../gateway/client';
import { callInput, failureText, replyText, type Json } from './message-call';
import { scoped } from '../../shared/scoped';
import styles from '../../shared/detail.module.css';

const cx = scoped(styles);

type Outcome = { ok: true; reply: Json; node: string; pid: string; ms: number } | { ok: false; text: string };

export function SendMessage({ id }: { id: string }) {
  const uid = useId();
  const [message, setMessage] = useState('');
  const [timeout, setTimeoutText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  async function send(): Promise<void> {
    const input = callInput(message, timeout);
    if (!input.ok) {
      setProblem(input.error);
      return;
    }
    setProblem(null);
    setOutcome(null);
    setSending(true);
    const began = performance.now();
    const ack = await sendCommand('call', { id, message: input.message, ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }) });
    const ms = performance.now() - began;
    setSending(false);
    setOutcome(
      ack.ok
        ? { ok: true, reply: ack.result.reply, node: ack.result.node, pid: ack.result.pid, ms }
        : { ok: false, text: failureText(ack.error.code, ack.error.message) },
    );
  }

  return (
    <section className={cx('detail-section send-message')} aria-label="Send message">
      <h3>Send message</h3>
      <label htmlFor={`${uid}-message`}>Message (JSON)</label>
      <textarea
        id={`${uid}-message`}
        rows={3}
        spellCheck={false}
        placeholder='{"op":"get","key":"a"}'
        value={message}
        onChange={(e) => {
          setMessage(e.target.value);
          setProblem(null);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void send();
        }}
      />
      <div className={cx('action-row')}>
        <label htmlFor={`${uid}-timeout`}>Timeout</label>
        <input
          id={`${uid}-timeout`}
          className={cx('timeout')}
          inputMode="numeric"
          placeholder="5000"
          value={timeout}
          onChange={(e) => setTimeoutText(e.target.value)}
          aria-describedby={`${uid}-timeout-unit`}
        />
        <span id={`${uid}-timeout-unit`} className={cx('muted action-note')}>
          ms
        </span>
        <span className={cx('header-spacer')} />
        <button
          type="button"
          disabled={sending}
          onClick={() => void send()}
          title="Send the message to the child wherever it runs and wait for its reply (Ctrl+Enter)"
        >
          {sending ? 'Waiting for the reply…' : 'Send'}
        </button>
      </div>
      {problem && (
        <p className={cx('bad-text')} role="alert">
          {problem}
        </p>
      )}
      {outcome?.ok === true && (
        <div role="status" data-testid="call-reply">
          <p className={cx('muted')}>
            Reply from <strong>{outcome.node}</strong> (instance <code className={cx('wrap')}>{outcome.pid}</code>) in{' '}
            {outcome.ms < 10 ? outcome.ms.toFixed(1) : Math.round(outcome.ms)} ms:
          </p>
          <pre className={cx('reply')}>{replyText(outcome.reply)}</pre>
        </div>
      )}
      {outcome?.ok === false && (
        <p className={cx('bad-text')} role="alert" data-testid="call-error">
          {outcome.text}
        </p>
      )}
    </section>
  );
}
