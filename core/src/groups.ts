/**
 * Process groups, after Erlang's `pg`: the public surface of groups/ (the
 * algorithm is in groups/process-groups.ts's header; the table, syncs,
 * monitors and member values each have their own file there).
 */
export { ProcessGroups } from './groups/process-groups.js';
export { PgError } from './groups/types.js';
export type { PeerChannel, PgEvent, PgListener, PgMember, PgMessage, PgMonitor, PgSnapshot, PgValueSharer, ProcessGroupsOptions } from './groups/types.js';
export { diffMembers } from './groups/members.js';

/** Any JSON value: protocol.ts's, re-exported here for the modules that import it with the groups. */
export type { JsonValue } from './protocol.js';
