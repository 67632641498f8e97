/**
 * What main does for each preload method, without Electron: main.ts only
 * registers these with ipcMain (after checking the sender) and supplies the
 * Electron parts (the native dialog, window navigation) as functions.
 *
 * Every handler parses its arguments (ipc.ts) and answers a Result: a bad
 * argument, a missing connection or a cluster that does not answer is
 * `{ ok: false, error }` with a message for the user, never an exception
 * into Electron. Changes to the saved list are serialized (read, change,
 * atomic write), so two quick saves cannot lose one another.
 */
import { loadConnections, saveConnections } from './connections';
import { parseArguments, type IpcArguments, type IpcMethod } from './ipc';
import type { FilePurpose, PogoPreloadApi, SavedConnection } from './preload-api';
import type { Session, SessionManager } from './session';

export interface HandlerDeps {
  /** Directory of connections.json (Electron's userData directory). */
  connectionsDir: string;
  sessions: Pick<SessionManager, 'switchTo' | 'close'>;
  /** Shows the native dialog; null when the user cancels. */
  chooseFile(purpose: FilePurpose): Promise<string | null>;
  /** Points the window at the session's gateway page. */
  showSession(session: Session): void;
  /** Points the window back at the connections screen. */
  showConnections(): void;
  /** A fresh id for a new connection. */
  newId(): string;
  /** Told about every failure (for the log); the renderer gets the message. */
  onError?(method: IpcMethod, message: string): void;
}

type ApiResult<M extends IpcMethod> = Awaited<ReturnType<PogoPreloadApi[M]>>;
export type IpcHandlers = { [M in IpcMethod]: (args: readonly unknown[]) => Promise<ApiResult<M>> };

export function createIpcHandlers(deps: HandlerDeps): IpcHandlers {
  let storeQueue: Promise<unknown> = Promise.resolve();
  /** Runs one read-change-write of the saved list at a time. */
  const withStore = <T>(step: () => Promise<T>): Promise<T> => {
    const run = storeQueue.then(step, step);
    storeQueue = run.catch(() => undefined);
    return run;
  };
  const savedConnection = async (id: string): Promise<SavedConnection> => {
    const { connections } = await loadConnections(deps.connectionsDir);
    const found = connections.find((c) => c.id === id);
    if (!found) throw new Error('that connection is no longer saved; reload the list');
    return found;
  };

  /** Parses the arguments, runs the body, and turns every failure into a Result. */
  const handler =
    <M extends IpcMethod>(method: M, body: (args: IpcArguments<M>) => Promise<ApiResult<M>>) =>
    async (raw: readonly unknown[]): Promise<ApiResult<M>> => {
      const failed = (error: string): ApiResult<M> => {
        deps.onError?.(method, error);
        return { ok: false, error } as ApiResult<M>;
      };
      const parsed = parseArguments(method, raw);
      if (!parsed.ok) return failed(parsed.error);
      try {
        return await body(parsed.args);
      } catch (err) {
        return failed(err instanceof Error ? err.message : String(err));
      }
    };

  return {
    listConnections: handler('listConnections', async () => {
      const { connections, error } = await loadConnections(deps.connectionsDir);
      return { ok: true, connections, ...(error !== undefined ? { warning: error } : {}) };
    }),

    saveConnection: handler('saveConnection', ([draft]) =>
      withStore(async () => {
        const { connections } = await loadConnections(deps.connectionsDir);
        const connection: SavedConnection = { ...draft, id: draft.id ?? deps.newId() };
        const index = connections.findIndex((c) => c.id === connection.id);
        if (draft.id !== undefined && index < 0) throw new Error('that connection is no longer saved; reload the list');
        const next = index < 0 ? [...connections, connection] : connections.map((c, i) => (i === index ? connection : c));
        await saveConnections(deps.connectionsDir, next);
        return { ok: true, connection };
      }),
    ),

    deleteConnection: handler('deleteConnection', ([id]) =>
      withStore(async () => {
        const { connections } = await loadConnections(deps.connectionsDir);
        if (!connections.some((c) => c.id === id)) throw new Error('that connection is no longer saved; reload the list');
        await saveConnections(
          deps.connectionsDir,
          connections.filter((c) => c.id !== id),
        );
        return { ok: true };
      }),
    ),

    chooseFile: handler('chooseFile', async ([purpose]) => ({ ok: true, path: await deps.chooseFile(purpose) })),

    connect: handler('connect', async ([id]) => {
      const session = await deps.sessions.switchTo(await savedConnection(id));
      deps.showSession(session);
      return { ok: true };
    }),

    startDemo: handler('startDemo', async () => {
      deps.showSession(await deps.sessions.switchTo('demo'));
      return { ok: true };
    }),

    disconnect: handler('disconnect', async () => {
      await deps.sessions.close();
      deps.showConnections();
      return { ok: true };
    }),
  };
}
