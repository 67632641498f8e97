/**
 * Connections view: what the app shows when no gateway is open.
 *
 * In the desktop app (`window.pogo` exists) it lists the saved clusters
 * (connect, edit, delete), has a form to add one — name, seeds, the user's
 * name for the audit log (default: the OS user name, which main fills in),
 * and the secret, token and TLS files picked with native dialogs — and offers to
 * start a local demo cluster (prominently when nothing is saved yet). The
 * form keeps file *paths* only: main reads the files when it connects, so
 * no secret or token ever reaches this page. Connecting makes main open the
 * session and navigate the window to the gateway; until then, and when it
 * fails, this view shows what is happening and why.
 *
 * In a plain browser (no preload) it explains how to get a gateway URL.
 */
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import type { ConnectionDraft, FilePurpose, PogoPreloadApi, SavedConnection, TimingPreset } from '../../../../electron/preload-api';
import { ConfirmDialog } from '../../shared/ConfirmDialog';
import { Field } from '../../shared/Field';
import { scoped } from '../../shared/scoped';
import styles from './connections.module.css';

const cx = scoped(styles);

export function Connections() {
  const bridge = window.pogo;
  return bridge === undefined ? <BrowserHint /> : <DesktopConnections api={bridge} />;
}

function BrowserHint() {
  return (
    <section className={cx('empty-state')} aria-labelledby="empty-title">
      <h2 id="empty-title">No cluster connected</h2>
      <p>
        Run <code>npx pogo demo --ui</code> (or <code>pogo observe --ui</code> against your cluster) and open the URL it prints.
      </p>
      <p className={cx('muted')}>
        Each server runs one node; <code>npx pogo node --help</code> lists its options.
      </p>
    </section>
  );
}

type Busy = { kind: 'connect'; id: string; name: string } | { kind: 'demo' } | undefined;

function accessOf(c: SavedConnection): { label: string; className: string } {
  if (c.operatorTokenFile) return { label: 'operator', className: 'tag access-operator' };
  if (c.viewerTokenFile) return { label: 'viewer', className: 'tag access-viewer' };
  return { label: 'read-only', className: 'tag access-none' };
}

function DesktopConnections({ api }: { api: PogoPreloadApi }) {
  const [connections, setConnections] = useState<SavedConnection[] | undefined>(undefined);
  const [warning, setWarning] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState<Busy>(undefined);
  const [editing, setEditing] = useState<SavedConnection | 'new' | undefined>(undefined);
  const [deleting, setDeleting] = useState<SavedConnection | undefined>(undefined);

  const refresh = useCallback(async () => {
    const result = await api.listConnections();
    if (result.ok) {
      setConnections(result.connections);
      setWarning(result.warning);
    } else {
      setConnections([]);
      setError(result.error);
    }
  }, [api]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const connect = async (c: SavedConnection): Promise<void> => {
    setError(undefined);
    setBusy({ kind: 'connect', id: c.id, name: c.name });
    const result = await api.connect(c.id);
    // On success main navigates the window to the cluster; nothing more to do here.
    if (!result.ok) {
      setBusy(undefined);
      setError(`Could not connect to ${c.name}: ${result.error}`);
    }
  };

  const startDemo = async (): Promise<void> => {
    setError(undefined);
    setBusy({ kind: 'demo' });
    const result = await api.startDemo();
    if (!result.ok) {
      setBusy(undefined);
      setError(`The demo cluster did not start: ${result.error}`);
    }
  };

  const remove = async (c: SavedConnection): Promise<void> => {
    setDeleting(undefined);
    const result = await api.deleteConnection(c.id);
    if (!result.ok) setError(`Could not delete ${c.name}: ${result.error}`);
    await refresh();
  };

  const empty = connections !== undefined && connections.length === 0;
  const demoButton = (
    <button
      type="button"
      className={cx(empty ? 'primary connections-demo' : 'connections-demo')}
      disabled={busy !== undefined}
      onClick={() => void startDemo()}
    >
      Start a local demo cluster
    </button>
  );

  return (
    <section className={cx('connections')} aria-labelledby="connections-title" aria-busy={busy !== undefined}>
      <div className={cx('connections-head')}>
        <h2 id="connections-title">Connections</h2>
        {!empty && demoButton}
        {editing === undefined && (
          <button type="button" disabled={busy !== undefined} onClick={() => setEditing('new')}>
            Add a connection
          </button>
        )}
      </div>

      {warning && (
        <p role="alert" className={cx('error')} onClick={() => setWarning(undefined)} title="Click to dismiss">
          {warning}
        </p>
      )}
      {error && (
        <p role="alert" className={cx('error')} onClick={() => setError(undefined)} title="Click to dismiss">
          {error}
        </p>
      )}
      {busy && (
        <p role="status" className={cx('connections-busy')}>
          {busy.kind === 'demo' ? 'Starting a local demo cluster…' : `Connecting to ${busy.name}…`}
        </p>
      )}

      {connections === undefined && <p className={cx('muted')}>Loading saved connections…</p>}

      {empty && editing === undefined && (
        <div className={cx('empty-state connections-empty')}>
          <h3>No saved connections</h3>
          <p>Try Pogo on this machine first: the demo starts three nodes with a few example children.</p>
          {demoButton}
          <p className={cx('muted')}>Or add your cluster: its seeds, and the secret file its nodes use.</p>
        </div>
      )}

      {connections !== undefined && connections.length > 0 && (
        <ul className={cx('connections-list')} aria-label="Saved connections">
          {connections.map((c) => {
            const access = accessOf(c);
            return (
              <li key={c.id} className={cx('panel connection-item')} data-connection={c.id}>
                <div className={cx('connection-main')}>
                  <span className={cx('connection-name')}>{c.name}</span>
                  <span className={cx(access.className)}>{access.label}</span>
                  {c.tls && <span className={cx('tag')}>TLS</span>}
                </div>
                <div className={cx('connection-meta muted')}>
                  {c.cluster && <span>cluster {c.cluster} · </span>}
                  <span>{c.seeds.join(', ')}</span>
                </div>
                <div className={cx('connection-actions')}>
                  <button
                    type="button"
                    className={cx('primary')}
                    disabled={busy !== undefined}
                    onClick={() => void connect(c)}
                    aria-label={`Connect to ${c.name}`}
                  >
                    Connect
                  </button>
                  <button type="button" disabled={busy !== undefined} onClick={() => setEditing(c)} aria-label={`Edit ${c.name}`}>
                    Edit
                  </button>
                  <button type="button" disabled={busy !== undefined} onClick={() => setDeleting(c)} aria-label={`Delete ${c.name}`}>
                    Delete
                  </button>
                </div>
              </li>
            );
          })}
        </ul>
      )}

      {editing !== undefined && (
        <ConnectionForm
          api={api}
          initial={editing === 'new' ? undefined : editing}
          onCancel={() => setEditing(undefined)}
          onSaved={async () => {
            setEditing(undefined);
            await refresh();
          }}
        />
      )}

      {deleting && (
        <ConfirmDialog
          title={`Delete ${deleting.name}?`}
          action="Delete"
          danger
          onCancel={() => setDeleting(undefined)}
          onConfirm={() => void remove(deleting)}
        >
          <p>The app forgets this connection. The secret and token files it points to are left where they are.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

/** The files a connection points to, in form order. */
const FILE_FIELDS: ReadonlyArray<{ purpose: FilePurpose; label: string; hint: string; required?: boolean; tls?: boolean }> = [
  { purpose: 'secret', label: 'Secret file', hint: 'the shared cluster secret its nodes use (--secret-file)', required: true },
  { purpose: 'operator-token', label: 'Operator token file', hint: 'lets the app change the cluster; leave empty to watch only' },
  { purpose: 'viewer-token', label: 'Viewer token file', hint: 'read-only access, used when there is no operator token' },
  { purpose: 'ca', label: 'CA certificate', hint: 'trusted for the nodes’ certificates (self-signed clusters)', tls: true },
  { purpose: 'cert', label: 'Client certificate', hint: 'only if the nodes ask for one; goes with the key', tls: true },
  { purpose: 'key', label: 'Client key', hint: 'the private key of the client certificate', tls: true },
];

type FilePaths = Partial<Record<FilePurpose, string>>;

function pathsOf(c: SavedConnection | undefined): FilePaths {
  if (!c) return {};
  return {
    secret: c.secretFile,
    'operator-token': c.operatorTokenFile,
    'viewer-token': c.viewerTokenFile,
    ca: c.tls?.caFile,
    cert: c.tls?.certFile,
    key: c.tls?.keyFile,
  };
}

/** Seeds as typed: separated by commas or spaces. */
export function parseSeeds(text: string): string[] {
  return text.split(/[\s,]+/).filter((s) => s.length > 0);
}

function ConnectionForm(props: { api: PogoPreloadApi; initial: SavedConnection | undefined; onCancel: () => void; onSaved: () => Promise<void> }) {
  const { api, initial } = props;
  const id = useId();
  const [name, setName] = useState(initial?.name ?? '');
  const [seeds, setSeeds] = useState(initial?.seeds.join(', ') ?? '');
  const [dnsServer, setDnsServer] = useState(initial?.dnsServer?.join(', ') ?? '');
  const [cluster, setCluster] = useState(initial?.cluster ?? '');
  const [preset, setPreset] = useState<TimingPreset | ''>(initial?.preset ?? '');
  const [user, setUser] = useState(initial?.user ?? '');
  const [files, setFiles] = useState<FilePaths>(() => pathsOf(initial));
  const [error, setError] = useState<string | undefined>(undefined);
  const [saving, setSaving] = useState(false);

  const choose = async (purpose: FilePurpose): Promise<void> => {
    const result = await api.chooseFile(purpose);
    if (!result.ok) setError(result.error);
    else if (result.path !== null) setFiles((f) => ({ ...f, [purpose]: result.path ?? undefined }));
  };

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (!files.secret) {
      setError('Choose the secret file: the nodes only accept an observer that knows the cluster secret.');
      return;
    }
    const tls = { ...(files.ca ? { caFile: files.ca } : {}), ...(files.cert ? { certFile: files.cert } : {}), ...(files.key ? { keyFile: files.key } : {}) };
    const draft: ConnectionDraft = {
      ...(initial ? { id: initial.id } : {}),
      name: name.trim(),
      seeds: parseSeeds(seeds),
      ...(parseSeeds(dnsServer).length > 0 ? { dnsServer: parseSeeds(dnsServer) } : {}),
      ...(cluster.trim() ? { cluster: cluster.trim() } : {}),
      secretFile: files.secret,
      ...(files['operator-token'] ? { operatorTokenFile: files['operator-token'] } : {}),
      ...(files['viewer-token'] ? { viewerTokenFile: files['viewer-token'] } : {}),
      ...(Object.keys(tls).length > 0 ? { tls } : {}),
      ...(preset !== '' ? { preset } : {}),
      ...(user.trim() ? { user: user.trim() } : {}),
    };
    setSaving(true);
    const result = await api.saveConnection(draft);
    setSaving(false);
    if (!result.ok) setError(result.error);
    else await props.onSaved();
  };

  const fileRow = (field: (typeof FILE_FIELDS)[number]) => {
    const path = files[field.purpose];
    return (
      <div key={field.purpose} className={cx('file-field')}>
        <span id={`${id}-${field.purpose}`}>
          {field.label}
          {field.required && <span className={cx('muted')}> (required)</span>}
        </span>
        <span className={cx('file-path')} aria-labelledby={`${id}-${field.purpose}`} data-file={field.purpose}>
          {path ? <code title={path}>{path}</code> : <span className={cx('muted')}>{field.hint}</span>}
        </span>
        <span className={cx('file-actions')}>
          <button type="button" onClick={() => void choose(field.purpose)} aria-label={`Choose ${field.label.toLowerCase()}`}>
            Choose…
          </button>
          {path && !field.required && (
            <button type="button" onClick={() => setFiles((f) => ({ ...f, [field.purpose]: undefined }))} aria-label={`Clear ${field.label.toLowerCase()}`}>
              Clear
            </button>
          )}
        </span>
      </div>
    );
  };

  const usesTls = Boolean(files.ca || files.cert || files.key);
  return (
    <form className={cx('panel connection-form')} aria-labelledby={`${id}-title`} onSubmit={(e) => void submit(e)}>
      <h3 id={`${id}-title`}>{initial ? `Edit ${initial.name}` : 'Add a connection'}</h3>
      {error && (
        <p role="alert" className={cx('error')} onClick={() => setError(undefined)} title="Click to dismiss">
          {error}
        </p>
      )}
      <Field className={cx('form-row')} label="Name">
        {(c) => <input {...c} value={name} onChange={(e) => setName(e.target.value)} placeholder="Production EU" required maxLength={100} />}
      </Field>
      <Field className={cx('form-row')} label="Seeds">
        {(c) => (
          <input
            {...c}
            value={seeds}
            onChange={(e) => setSeeds(e.target.value)}
            placeholder="10.0.0.1:4370, 10.0.0.2:4370 or dns-srv:_pogo._tcp.pogo.svc"
            required
            spellCheck={false}
          />
        )}
      </Field>
      <Field
        className={cx('form-row')}
        label="DNS server"
        title="Only for dns: and dns-srv: seeds, when the system's DNS servers cannot resolve them (ip or ip:port)"
      >
        {(c) => <input {...c} value={dnsServer} onChange={(e) => setDnsServer(e.target.value)} placeholder="the system's" spellCheck={false} />}
      </Field>
      <Field className={cx('form-row')} label="Cluster name">
        {(c) => <input {...c} value={cluster} onChange={(e) => setCluster(e.target.value)} placeholder="pogo" spellCheck={false} />}
      </Field>
      <Field
        className={cx('form-row')}
        label="Your name"
        title="Recorded in the cluster's audit log with every command from this app, beside the name of the token the cluster checked"
      >
        {(c) => <input {...c} value={user} onChange={(e) => setUser(e.target.value)} placeholder="your OS user name" maxLength={64} spellCheck={false} />}
      </Field>
      <Field
        className={cx('form-row')}
        label="Timing preset"
        title={
          "How soon the app notices a member it lost. It need not match the cluster's preset: " +
          'each link pings at the faster of its two ends and waits for the slower timeout.'
        }
      >
        {(c) => (
          <select {...c} value={preset} onChange={(e) => setPreset(e.target.value as TimingPreset | '')}>
            <option value="">lan (default)</option>
            <option value="local">local</option>
            <option value="wan">wan</option>
          </select>
        )}
      </Field>
      {FILE_FIELDS.filter((f) => !f.tls).map(fileRow)}
      <details className={cx('tls-files')} open={usesTls}>
        <summary>TLS</summary>
        {FILE_FIELDS.filter((f) => f.tls).map(fileRow)}
      </details>
      <p className={cx('muted connection-form-note')}>The app stores where these files are, never what they contain.</p>
      <div className={cx('dialog-actions')}>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="submit" className={cx('primary')} disabled={saving}>
          {initial ? 'Save changes' : 'Save connection'}
        </button>
      </div>
    </form>
  );
}
