/**
 * The API the preload script exposes to the renderer as `window.pogo`.
 *
 * Types only: this file is shared by electron/preload.ts (which implements it)
 * and the renderer (which declares `window.pogo` as optional, because in a
 * plain browser served by `pogo observe --ui` there is no preload). Keep it
 * free of runtime code and of Node/Electron imports. The runtime schemas that
 * main checks every argument against live in electron/ipc.ts and
 * electron/connections.ts, which assert at compile time that they match the
 * types below.
 *
 * Rules for growing it (DESIGN §4, Electron security): one method per purpose,
 * never raw ipcRenderer; every argument is validated again in main; event
 * subscriptions return an unsubscribe function.
 *
 * Secrets never cross this bridge: a saved connection holds the *paths* of
 * the secret and token files, which main reads itself when it connects.
 */

/** The files a native "choose a file" dialog can be opened for. */
export type FilePurpose = 'secret' | 'operator-token' | 'viewer-token' | 'ca' | 'cert' | 'key';

/** TLS files for dialling the cluster's members (absolute paths). */
export interface TlsFiles {
  /** CA bundle trusted for the members' certificates (self-signed clusters). */
  caFile?: string;
  /** Client certificate; goes with keyFile. */
  certFile?: string;
  /** Private key for certFile. */
  keyFile?: string;
}

/** A cluster the user saved, as stored in the app's user-data directory. */
export interface SavedConnection {
  /** Stable id, assigned by main when the connection is first saved. */
  id: string;
  /** What the user calls it. */
  name: string;
  /** One or more members to join through: `host:port`, or `dns:<name>:<port>` / `dns-srv:<name>` (looked up again periodically). */
  seeds: string[];
  /** DNS servers (`ip[:port]`) for DNS seeds, when not the system's. */
  dnsServer?: string[];
  /** Cluster name, when not the default `pogo`. */
  cluster?: string;
  /** Absolute path of the file holding the cluster secret. */
  secretFile: string;
  /** Absolute path of the operator token file: the app may change the cluster. */
  operatorTokenFile?: string;
  /** Absolute path of the viewer token file: the app may watch the cluster. */
  viewerTokenFile?: string;
  /**
   * Who the user is in the cluster's audit log, beside the name of their
   * token (default: the OS user name).
   */
  user?: string;
  tls?: TlsFiles;
  /**
   * The app's own timing preset (as `pogo observe --preset`; default lan).
   * It need not match the cluster's: each link pings at the shorter interval
   * of its two ends and waits for the longer timeout.
   */
  preset?: TimingPreset;
}

/** The timing presets of `pogo node --preset`. */
export type TimingPreset = 'local' | 'lan' | 'wan';

/** A connection to save: a new one has no id yet, an edited one keeps its id. */
export type ConnectionDraft = Omit<SavedConnection, 'id'> & { id?: string };

/** The outcome of every call: `ok`, or a message that says what went wrong and what to do. */
export type Result<T extends object = object> = ({ ok: true } & T) | { ok: false; error: string };

export interface ConnectionList {
  connections: SavedConnection[];
  /** Set when the saved file could not be read entirely (the readable part is listed). */
  warning?: string;
}

export interface PogoPreloadApi {
  /** Desktop app version (from package.json, as reported by Electron's app.getVersion()). */
  readonly version: string;
  /** Node-style platform name of the desktop host: 'linux', 'darwin', 'win32'. */
  readonly platform: string;
  /** The saved connections. */
  listConnections(): Promise<Result<ConnectionList>>;
  /** Saves a new connection (no id) or replaces the one with the same id. */
  saveConnection(connection: ConnectionDraft): Promise<Result<{ connection: SavedConnection }>>;
  /** Forgets a saved connection (the files it points to are left alone). */
  deleteConnection(id: string): Promise<Result>;
  /** Opens a native file dialog; `path` is null when the user cancels. */
  chooseFile(purpose: FilePurpose): Promise<Result<{ path: string | null }>>;
  /** Connects to a saved cluster; on success the window switches to it. */
  connect(id: string): Promise<Result>;
  /** Starts a local demo cluster (as `pogo demo`) and switches the window to it. */
  startDemo(): Promise<Result>;
  /** Ends the current session (stopping a demo cluster) and goes back to the connections screen. */
  disconnect(): Promise<Result>;
}
