/**
 * Network addresses as the cluster writes them: `host:port`, an IPv6 host in
 * brackets. One place for the transport, the node, the status endpoint and
 * the observer gateway, so every address a node prints or dials is written
 * the same way.
 */

/** `host:port`, with an IPv6 host in brackets. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Splits `host:port` (IPv6 hosts in brackets). */
export function parseAddress(address: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(address);
  if (!match) throw new Error(`invalid address ${JSON.stringify(address)}: expected host:port`);
  const port = Number(match[2]);
  if (port > 65535) throw new Error(`invalid address ${JSON.stringify(address)}: port out of range`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}
