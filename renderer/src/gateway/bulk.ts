/**
 * Bulk commands: one op for each child of a set (the board's filtered set),
 * a few at a time, and what came of each, summed up.
 *
 * At most `limit` commands are in flight (BULK_CONCURRENCY by default), so
 * stopping a thousand children neither floods the gateway nor waits for
 * each one in turn; each child gets exactly one command, in the order
 * given. The outcome lists the children done and, for each one that
 * failed, its error; `failureCounts` counts the failures by code for the
 * summary line. A command never rejects (sendCommand), but a throwing one
 * is counted as failed, not lost.
 */
import type { CommandFailure } from 'pogo-core/ui-protocol';

/** Commands in flight at once. */
export const BULK_CONCURRENCY = 8;

export interface BulkOutcome {
  done: string[];
  failed: Array<{ id: string; error: CommandFailure }>;
}

type Reply = { ok: true } | { ok: false; error: CommandFailure };

export async function runBulk(
  ids: readonly string[],
  act: (id: string) => Promise<Reply>,
  options: { limit?: number; onProgress?: (finished: number) => void } = {},
): Promise<BulkOutcome> {
  const limit = Math.max(1, options.limit ?? BULK_CONCURRENCY);
  const results: Array<{ id: string; reply: Reply }> = new Array(ids.length);
  let next = 0;
  let finished = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const i = next++;
      const id = ids[i]!;
      let reply: Reply;
      try {
        reply = await act(id);
      } catch (err) {
        reply = { ok: false, error: { code: 'failed', message: err instanceof Error ? err.message : String(err) } };
      }
      results[i] = { id, reply };
      options.onProgress?.(++finished);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, ids.length) }, worker));
  const outcome: BulkOutcome = { done: [], failed: [] };
  for (const { id, reply } of results) {
    if (reply.ok) outcome.done.push(id);
    else outcome.failed.push({ id, error: reply.error });
  }
  return outcome;
}

/** The failures counted by error code, most frequent first: "2 not-found, 1 timeout". */
export function failureCounts(outcome: BulkOutcome): Array<{ code: string; count: number }> {
  const counts = new Map<string, number>();
  for (const f of outcome.failed) counts.set(f.error.code, (counts.get(f.error.code) ?? 0) + 1);
  return [...counts].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : 1));
}
