/**
 * The IPC contract between the preload and main, checked in main.
 *
 * The renderer is untrusted input (it may show a cluster's data, and a bug
 * or a hostile page must not reach Node): every argument main receives is
 * parsed with the schema of its channel, and a bad one becomes a
 * `{ ok: false, error }` result naming the argument, never an exception in
 * main. Channel names live in ipc-channels.ts (the preload bundles that file
 * and must not pull zod in).
 *
 * Also here, as data: what each native file dialog is titled and filters on.
 */
import { z } from 'zod';
import { ConnectionDraftSchema, ConnectionIdSchema } from './connections';
import { IPC_CHANNELS, type IpcMethod } from './ipc-channels';
import type { FilePurpose } from './preload-api';

export { IPC_CHANNELS, type IpcChannel, type IpcMethod } from './ipc-channels';

export const FILE_PURPOSES = ['secret', 'operator-token', 'viewer-token', 'ca', 'cert', 'key'] as const satisfies readonly FilePurpose[];
export const FilePurposeSchema = z.enum(FILE_PURPOSES);

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const purposesMatchApi: Same<z.infer<typeof FilePurposeSchema>, FilePurpose> = true;
void purposesMatchApi;

/** The arguments of each channel, as a tuple (extra arguments are refused). */
export const IPC_ARGUMENTS = {
  listConnections: z.tuple([]),
  saveConnection: z.tuple([ConnectionDraftSchema]),
  deleteConnection: z.tuple([ConnectionIdSchema]),
  chooseFile: z.tuple([FilePurposeSchema]),
  connect: z.tuple([ConnectionIdSchema]),
  startDemo: z.tuple([]),
  disconnect: z.tuple([]),
} as const satisfies Record<IpcMethod, z.ZodType>;

export type IpcArguments<M extends IpcMethod> = z.infer<(typeof IPC_ARGUMENTS)[M]>;

/** The method a channel name belongs to, or undefined for an unknown channel. */
export function methodOf(channel: string): IpcMethod | undefined {
  return (Object.keys(IPC_CHANNELS) as IpcMethod[]).find((m) => IPC_CHANNELS[m] === channel);
}

/**
 * Parses the arguments of one call. Problems name the argument and field:
 * `saveConnection: seeds[0]: "127.0.0.1" is not host:port, dns:<name>:<port> or dns-srv:<name>`.
 */
export function parseArguments<M extends IpcMethod>(method: M, args: readonly unknown[]): { ok: true; args: IpcArguments<M> } | { ok: false; error: string } {
  const schema: z.ZodType = IPC_ARGUMENTS[method];
  const expected = (IPC_ARGUMENTS[method] as z.ZodTuple).def.items.length;
  if (args.length !== expected) return { ok: false, error: `${method}: expected ${expected} argument${expected === 1 ? '' : 's'}, got ${args.length}` };
  const parsed = schema.safeParse(args);
  if (parsed.success) return { ok: true, args: parsed.data as IpcArguments<M> };
  const problems = parsed.error.issues.map((issue) => {
    // Single-argument channels: the argument index says nothing, drop it.
    const path = issue.path.slice(1);
    let field = '';
    for (const key of path) field += typeof key === 'number' ? `[${key}]` : field === '' ? String(key) : `.${String(key)}`;
    return field === '' ? issue.message : `${field}: ${issue.message}`;
  });
  return { ok: false, error: `${method}: ${problems.join('; ')}` };
}

const PEM_CERTIFICATES = { name: 'PEM certificates', extensions: ['pem', 'crt', 'cer'] };
const ALL_FILES = { name: 'All files', extensions: ['*'] };

/** Title and file filters of the native dialog for each purpose. */
export const FILE_DIALOGS: Record<FilePurpose, { title: string; filters: Array<{ name: string; extensions: string[] }> }> = {
  secret: { title: 'Choose the cluster secret file', filters: [] },
  'operator-token': { title: 'Choose the operator token file', filters: [] },
  'viewer-token': { title: 'Choose the viewer token file', filters: [] },
  ca: { title: 'Choose the CA certificate bundle (PEM)', filters: [PEM_CERTIFICATES, ALL_FILES] },
  cert: { title: 'Choose the client certificate (PEM)', filters: [PEM_CERTIFICATES, ALL_FILES] },
  key: { title: 'Choose the private key of the client certificate (PEM)', filters: [{ name: 'PEM keys', extensions: ['pem', 'key'] }, ALL_FILES] },
};
