/**
 * The session's controls in the header: who the user is (for the audit
 * log), Unlock (more access), and Lock (drop the operator rights of this
 * session, as a safety catch against changing the cluster by mistake).
 *
 * In a browser: a Name field (kept in this browser, sent with every
 * connect; a changed name re-opens the session under it, the board kept
 * meanwhile) and a Credential field with Unlock, which tries the typed
 * operator or viewer token beside the working session (gateway/client.ts):
 * refused, the session goes on as it was and says why, once.
 * In the desktop app the main process holds the token and the user's name,
 * so there are no fields.
 *
 * Lock (an operator session) asks the gateway to refuse this session's
 * changes, on the same connection; the session reads on as a viewer does.
 * Unlock of a locked session (no credential typed) asks the gateway to
 * check the session's own credential again and give the rights back; a
 * credential typed instead opens a session with that one. The lock guards
 * against mistakes, not against whoever holds this window: the gateway
 * already holds the credential.
 */
import { useState, type FormEvent } from 'react';
import { connectGateway, lockSession, renameSession, unlockSession } from '../../gateway/client';
import { useStore } from '../../store/index';
import { scoped } from '../../shared/scoped';
import styles from './shell.module.css';

const cx = scoped(styles);

const USER_KEY = 'pogo.user';

/** The name this browser declares for the audit log ('' when none was saved). */
export function savedUserName(): string {
  try {
    return window.localStorage.getItem(USER_KEY) ?? '';
  } catch {
    return '';
  }
}

function saveUserName(name: string): void {
  try {
    if (name) window.localStorage.setItem(USER_KEY, name);
    else window.localStorage.removeItem(USER_KEY);
  } catch {
    // storage unavailable: the name holds for this session only
  }
}

/**
 * The token in what was typed or pasted: white space around it dropped, and a token file's `name:token` line
 * (docs/operations.md writes them so) gives its token, as `pogo ctl --token-file` and the desktop app read it. A
 * token holds no ":", so no valid credential is changed. A tour pasted the line from its operator file and was
 * refused ("the credential is not valid for this cluster").
 */
export function pastedCredential(text: string): string {
  const trimmed = text.trim();
  const named = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}:(\S+)$/.exec(trimmed);
  return named ? named[1]! : trimmed;
}

/** What pressing Unlock does: try a typed credential, or unlock the locked session with its own; null when there is nothing to do. */
export function unlockAction(credential: string, access: string | undefined): 'try-credential' | 'unlock' | null {
  if (credential !== '') return 'try-credential';
  return access === 'locked' ? 'unlock' : null;
}

export function SessionControls({ token }: { token: string }) {
  const access = useStore((s) => s.cluster?.access);
  const unlock = useStore((s) => s.unlock);
  const user = useStore((s) => s.user);
  const [credential, setCredential] = useState('');
  const [name, setName] = useState(() => savedUserName());
  const desktop = window.pogo !== undefined;
  const action = unlockAction(credential, access);

  const lockButton =
    access === 'operator' ? (
      <button
        type="button"
        onClick={() => {
          // A credential left in the field (one refused before) would be what Unlock tries next: start clean.
          setCredential('');
          void lockSession();
        }}
        title="Drop this session's operator rights: changes are refused until you unlock it (the board keeps updating)"
        data-testid="lock"
      >
        Lock
      </button>
    ) : null;

  if (desktop) {
    return (
      <>
        {access === 'locked' && (
          <button
            type="button"
            className={cx('primary')}
            disabled={unlock.pending}
            onClick={() => void unlockSession()}
            title="Take this session's operator rights back"
          >
            {unlock.pending ? 'Checking…' : 'Unlock'}
          </button>
        )}
        {lockButton}
      </>
    );
  }

  const applyName = (): void => {
    const next = name.trim().slice(0, 64);
    saveUserName(next);
    if (next !== user) void renameSession(next);
  };

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (action === 'try-credential') {
      const next = name.trim().slice(0, 64);
      saveUserName(next);
      void connectGateway({ url: window.location.origin, token, credential: pastedCredential(credential), ...(next ? { user: next } : {}) }).then((outcome) => {
        if (outcome === 'accepted') setCredential('');
      });
    } else if (action === 'unlock') void unlockSession();
  };

  return (
    <form className={cx('credential')} onSubmit={submit}>
      <input
        type="text"
        className={cx('user-name')}
        aria-label="Your name"
        placeholder="your name (audit log)"
        title="Recorded in the audit log with every command of this session, beside the name of the token the cluster checked"
        value={name}
        maxLength={64}
        onChange={(e) => setName(e.target.value)}
        onBlur={applyName}
        onKeyDown={(e) => {
          if (e.key !== 'Enter') return;
          e.preventDefault();
          applyName();
        }}
      />
      <input
        type="password"
        aria-label="Credential"
        placeholder="operator or viewer token"
        value={credential}
        onChange={(e) => setCredential(e.target.value)}
      />
      <button
        type="submit"
        disabled={unlock.pending || action === null}
        title={action === 'unlock' ? "Take this session's operator rights back" : 'Use this operator or viewer token'}
      >
        {unlock.pending ? 'Checking…' : 'Unlock'}
      </button>
      {lockButton}
    </form>
  );
}
