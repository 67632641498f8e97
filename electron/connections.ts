/**
 * Saved connections: the clusters the desktop app knows, stored as one JSON
 * file in the app's user-data directory (main passes `app.getPath('userData')`).
 *
 * File: `connections.json` = `{ "version": 1, "connections": [SavedConnection...] }`,
 * mode 0600. A connection holds the *paths* of the secret and token files,
 * never their contents: main reads them when it connects (session.ts), and
 * nothing secret is ever written here or sent to the renderer.
 *
 * Reading never throws: a missing file is an empty list; a file that is not
 * JSON or not the expected shape gives an empty list and a message; entries
 * that fail validation are skipped, each named with the field at fault
 * (`connections[2].seeds[0]: "x" is not host:port, dns:<name>:<port> or dns-srv:<name>`). Writing is atomic (a
 * temporary file in the same directory, flushed, then renamed over the old
 * one), and a file that could not be read entirely is first kept aside as
 * `connections.json.bad`, so a save never silently destroys what the user had.
 *
 * Pure Node: no Electron import, so it is tested with vitest directly.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { DnsServerSchema, SeedTextSchema } from 'pogo-core';
import { ClusterNameSchema } from 'pogo-core/protocol';
import { z } from 'zod';
import type { ConnectionDraft, SavedConnection } from './preload-api';

export const CONNECTIONS_FILE = 'connections.json';
const FORMAT_VERSION = 1;

const PathSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(4096, 'is too long')
  .refine(isAbsolute, 'must be an absolute path (choose the file with the dialog)');

export const ConnectionIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"');

export const TlsFilesSchema = z
  .object({ caFile: PathSchema.optional(), certFile: PathSchema.optional(), keyFile: PathSchema.optional() })
  .strict()
  .superRefine((t, ctx) => {
    if ((t.certFile === undefined) !== (t.keyFile === undefined))
      ctx.addIssue({ code: 'custom', path: [t.certFile === undefined ? 'certFile' : 'keyFile'], message: 'a client certificate and its key go together' });
  });

const connectionShape = {
  id: ConnectionIdSchema,
  name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  seeds: z.array(SeedTextSchema).min(1, 'give at least one seed (host:port of a member, or dns:<name>:<port> / dns-srv:<name>)').max(100, 'at most 100 seeds'),
  dnsServer: z.array(DnsServerSchema).min(1, "leave it out for the system's DNS servers").max(10, 'at most 10 DNS servers').optional(),
  cluster: ClusterNameSchema.optional(),
  secretFile: PathSchema,
  operatorTokenFile: PathSchema.optional(),
  viewerTokenFile: PathSchema.optional(),
  user: z.string().trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters').optional(),
  tls: TlsFilesSchema.optional(),
  preset: z.enum(['local', 'lan', 'wan'], { error: 'must be local, lan or wan' }).optional(),
};

export const ConnectionSchema = z.object(connectionShape).strict();
/** What the renderer sends to save: the same, with the id optional (new connections get one from main). */
export const ConnectionDraftSchema = z.object({ ...connectionShape, id: ConnectionIdSchema.optional() }).strict();

// The preload API's hand-written types and these schemas must describe the same thing.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesApi: Same<z.infer<typeof ConnectionSchema>, SavedConnection> & Same<z.infer<typeof ConnectionDraftSchema>, ConnectionDraft> = true;
void schemaMatchesApi;

const StoreFileSchema = z.object({ version: z.literal(FORMAT_VERSION), connections: z.array(z.unknown()) }).strict();

/** `seeds.0` → `seeds[0]`: zod issue paths written the way a user reads a field name. */
function fieldName(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  return out === '' ? '(connection)' : out;
}

/** Every problem in a zod error, each naming its field: `seeds[0]: "x" is not host:port, …; name: must not be empty`. */
export function describeIssues(error: z.ZodError, prefix = ''): string {
  return error.issues.map((issue) => `${fieldName(issue.path, prefix)}: ${issue.message}`).join('; ');
}

export interface LoadedConnections {
  connections: SavedConnection[];
  /** Why some or all of the file could not be used; absent when all is well. */
  error?: string;
}

interface Inspected extends LoadedConnections {
  /** False when the file exists but is not entirely usable (then a save keeps a copy of it). */
  intact: boolean;
}

async function inspect(dir: string): Promise<Inspected> {
  const path = join(dir, CONNECTIONS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { connections: [], intact: true };
    return { connections: [], intact: false, error: `Saved connections could not be read from ${path} (${code ?? (err as Error).message}).` };
  }
  const unusable = (why: string): Inspected => ({
    connections: [],
    intact: false,
    error: `Saved connections in ${path} could not be used (${why}). None are listed; the file is kept as ${CONNECTIONS_FILE}.bad when you next save.`,
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return unusable(`not valid JSON: ${(err as Error).message}`);
  }
  const file = StoreFileSchema.safeParse(json);
  if (!file.success) return unusable(describeIssues(file.error));
  const connections: SavedConnection[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  file.data.connections.forEach((entry, i) => {
    const parsed = ConnectionSchema.safeParse(entry);
    if (!parsed.success) problems.push(describeIssues(parsed.error, `connections[${i}]`));
    else if (seen.has(parsed.data.id)) problems.push(`connections[${i}].id: ${parsed.data.id} is used twice`);
    else {
      seen.add(parsed.data.id);
      connections.push(parsed.data);
    }
  });
  if (problems.length === 0) return { connections, intact: true };
  return {
    connections,
    intact: false,
    error: `Some saved connections in ${path} were skipped: ${problems.join('; ')}. The file is kept as ${CONNECTIONS_FILE}.bad when you next save.`,
  };
}

/** The saved connections. Never throws: problems come back as `error`, with whatever could be read. */
export async function loadConnections(dir: string): Promise<LoadedConnections> {
  try {
    const { connections, error } = await inspect(dir);
    return error === undefined ? { connections } : { connections, error };
  } catch (err) {
    return { connections: [], error: `Saved connections could not be read: ${(err as Error).message}` };
  }
}

/**
 * Replaces the saved list, atomically, with mode 0600. Throws (with a message
 * naming the field) when an entry is invalid or two share an id; the old
 * file is then left untouched.
 */
export async function saveConnections(dir: string, list: readonly SavedConnection[]): Promise<void> {
  const checked = z.array(ConnectionSchema).safeParse(list);
  if (!checked.success) throw new Error(`not saved: ${describeIssues(checked.error, 'connections')}`);
  const ids = new Set<string>();
  for (const c of checked.data) {
    if (ids.has(c.id)) throw new Error(`not saved: the id ${c.id} is used twice`);
    ids.add(c.id);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, CONNECTIONS_FILE);
  if (!(await inspect(dir)).intact) await copyFile(path, `${path}.bad`).catch(() => undefined);
  const temp = join(dir, `.${CONNECTIONS_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify({ version: FORMAT_VERSION, connections: checked.data }, null, 2)}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
