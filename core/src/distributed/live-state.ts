/**
 * The live state of the distributed supervisor, read from pg (as in Pogo):
 * `run:<id>` memberships of live instances (with their OS process id from
 * `os:<id>`, for OS-process children), `fail:<id>` records of failed
 * starts and, in majority mode, `claim:<id>` claims to start (tags.ts). Each node writes only its own; this module reads
 * everyone's, validating each value once (values are frozen and shared, so
 * the result is cached per object) and dropping what does not validate.
 */
import { z } from 'zod';
import type { PgMember, ProcessGroups } from '../groups.js';
import type { Logger } from '../logger.js';
import type { JsonValue } from '../protocol.js';
import { isVer, VerSchema, type ChildRegister, type Ver } from './registers.js';
import { childIdOfGroup, group, GROUP_PREFIX } from './tags.js';
import type { Claim, FailureRecord, Runner } from './view.js';

/** A live instance: the spec revision it runs, and how often its node restarted it in place. */
export const RunValueSchema = z.object({ rev: VerSchema, restarts: z.number().int().min(0).optional() }).strict();
const FailValueSchema = z.object({ rev: VerSchema, failures: z.number().int().min(0), lastError: z.string().max(2000), at: z.number() }).strict();
const ClaimValueSchema = z.object({ rev: VerSchema }).strict();
const OsValueSchema = z
  .object({
    osPid: z
      .number()
      .int()
      .positive()
      .max(2 ** 32),
  })
  .strict();
const NO_CLAIMS: Claim[] = [];
const NO_RUNNERS: readonly Runner[] = Object.freeze([]);
const NO_MEMBERS: readonly PgMember[] = Object.freeze([]);
type RunValue = z.infer<typeof RunValueSchema>;
const NONE: ReadonlyMap<string, FailureRecord> = new Map();
type FailValue = z.infer<typeof FailValueSchema>;

/**
 * The common shape of a `run:` value, checked without zod (a tenth of a
 * reconcile's cost in a start-rate profile); anything else goes through the
 * schema, which accepts or rejects it with a logged reason.
 */
export function isRunValue(v: unknown): v is RunValue {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  let n = 0;
  for (const k in o) {
    if (k !== 'rev' && k !== 'restarts') return false;
    n++;
  }
  const restarts = o['restarts'];
  return isVer(o['rev']) && (restarts === undefined ? n === 1 : n === 2 && Number.isSafeInteger(restarts) && (restarts as number) >= 0);
}

/**
 * pg's value sharer for the supervisor's scope (groups/process-groups.ts
 * `shareValues`): a `run:`, `fail:` or `claim:` value naming a revision the
 * child's register holds takes the register's string, so each child's
 * revision is held once, not once more in its instance's value.
 */
export function shareRevision(register: (id: string) => ChildRegister, group: string, value: JsonValue): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  const rev = value['rev'];
  if (typeof rev !== 'string') return;
  const id = childIdOfGroup(group);
  if (id === undefined) return;
  const specs = register(id).specs;
  for (let i = 0; i < specs.length; i++) {
    if (specs[i]!.rev === rev) {
      value['rev'] = specs[i]!.rev;
      return;
    }
  }
}

export class LiveState {
  private readonly valid = new WeakMap<object, unknown>();

  constructor(
    private readonly groups: ProcessGroups,
    private readonly scope: string,
    private readonly log: Logger,
  ) {}

  /**
   * Live instances of `id` on `visible` nodes (up, or this node itself).
   * A runner is pg's own member when its value is a plain run value and the
   * child has no OS process (view.ts `Runner`: no copy per child), else a
   * new one. The array is exactly as long as it needs to be (usually one
   * runner, or the shared empty one): the reconciler keeps the last view of
   * every child, and an array grown by `push` reserves 17 slots (2.7 MiB at
   * 20,000 children, bench/tools/heap-probe.mjs).
   */
  runners(id: string, visible: (node: string) => boolean): readonly Runner[] {
    let out: Runner[] | undefined;
    let os: readonly PgMember[] | undefined;
    const members = this.groups.readMembers(this.scope, group.run(id));
    for (let i = 0; i < members.length; i++) {
      const m = members[i]!;
      const plain = isRunValue(m.value);
      const v = (plain ? m.value : this.read(m, RunValueSchema)) as RunValue | undefined;
      if (!v || !visible(m.node)) continue;
      os ??= this.has(GROUP_PREFIX.os) ? this.groups.readMembers(this.scope, group.os(id)) : NO_MEMBERS;
      const entry = os.length === 0 ? undefined : os.find((x) => x.pid === m.pid);
      const osPid = entry && (this.read(entry, OsValueSchema) as { osPid: number } | undefined)?.osPid;
      const runner: Runner =
        osPid !== undefined ? { node: m.node, pid: m.pid, value: v, osPid } : plain ? (m as Runner) : { node: m.node, pid: m.pid, value: v };
      if (out === undefined) out = [runner];
      else out.push(runner);
    }
    return out ?? NO_RUNNERS;
  }

  /** Nodes (visible ones, or this one) that claim `id` to start it (majority mode), with the revision each claims. */
  claims(id: string, visible: (node: string) => boolean): Claim[] {
    if (!this.has(GROUP_PREFIX.claim)) return NO_CLAIMS;
    const members = this.groups.readMembers(this.scope, group.claim(id));
    if (members.length === 0) return NO_CLAIMS;
    const out: Claim[] = [];
    for (const m of members) {
      const v = this.read(m, ClaimValueSchema) as { rev: Ver } | undefined;
      if (v && visible(m.node)) out.push({ node: m.node, rev: v.rev });
    }
    return out;
  }

  /** Failed starts of revision `rev` of `id`, by node (a shared empty map when there are none: do not change it). */
  failures(id: string, rev: Ver | undefined): ReadonlyMap<string, FailureRecord> {
    if (rev === undefined || !this.has(GROUP_PREFIX.fail)) return NONE;
    const members = this.groups.readMembers(this.scope, group.fail(id));
    if (members.length === 0) return NONE;
    const out = new Map<string, FailureRecord>();
    for (const m of members) {
      const v = this.read(m, FailValueSchema) as FailValue | undefined;
      if (v && v.rev === rev) out.set(m.node, { failures: v.failures, lastError: v.lastError });
    }
    return out;
  }

  /** Ids of every child some node has a `run:`, `fail:` or `claim:` entry for. */
  *groupIds(): IterableIterator<string> {
    for (const g of this.groups.groupNames(this.scope)) {
      const id = childIdOfGroup(g);
      if (id !== undefined) yield id;
    }
  }

  /** Changes to any group so far (groups.ts `changeCount`): equal counts, no `run:`, `fail:` or `claim:` stamp moved. */
  get changes(): number {
    return this.groups.changeCount;
  }

  /** Change stamp of the child's `run:` group (groups.ts `stamp`): equal stamps, nothing changed. */
  runStamp(id: string): number {
    return this.groups.stamp(this.scope, group.run(id));
  }

  /** Change stamp of the child's `fail:` group (0 when it has none). */
  failStamp(id: string): number {
    return this.has(GROUP_PREFIX.fail) ? this.groups.stamp(this.scope, group.fail(id)) : 0;
  }

  /** Change stamp of the child's `claim:` group (0 when it has none). */
  claimStamp(id: string): number {
    return this.has(GROUP_PREFIX.claim) ? this.groups.stamp(this.scope, group.claim(id)) : 0;
  }

  /**
   * Whether any child has a group of this kind now (groups' `hasGroupsWithPrefix`).
   * A reconcile reads each child's `fail:`, `claim:` and `os:` groups, which
   * almost never exist: looked up one by one, each was a name built and a
   * miss in a map of every group, four per reconcile on every node.
   */
  private has(prefix: string): boolean {
    return this.groups.hasGroupsWithPrefix(this.scope, prefix);
  }

  private read(member: PgMember, schema: z.ZodType): unknown {
    const value = member.value;
    if (value === null || typeof value !== 'object') return undefined;
    if (this.valid.has(value)) return this.valid.get(value);
    const parsed = schema.safeParse(value);
    if (!parsed.success) this.log.warn({ node: member.node, pid: member.pid }, 'ignoring an invalid supervisor record from a peer');
    const result = parsed.success ? parsed.data : undefined;
    this.valid.set(value, result);
    return result;
  }
}
