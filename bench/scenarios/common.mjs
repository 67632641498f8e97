/**
 * Settings shared by the scenarios.
 *
 * Every node runs with rebalancing unthrottled (`--max-moves-per-second`
 * 1,000,000 instead of the default 100 per node) so that join and leave
 * figures show the mechanism, not the limiter, and with a long request
 * timeout so that 10,000 concurrent startChild calls are measured rather
 * than timed out.
 */
export const NODE_FLAGS = ['--max-moves-per-second', '1000000', '--request-timeout-ms', '600000'];

/**
 * @param {number} count
 * @param {string} [prefix]
 * @returns {string[]}
 */
export function names(count, prefix = 'n') {
  return Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
}
