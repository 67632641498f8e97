/**
 * The link table: this node's established links, node links by peer name
 * and client links by connection (a client's name is a label, not an
 * identity). It stores; the rules that decide which link may exist (one per
 * pair of nodes, replacement, refusal) are link-layer.ts's.
 */
import type { Conn } from '../transport/transport.js';
import type { Link } from './types.js';

export class LinkTable {
  /** Node links, by peer name: at most one per peer. */
  readonly links = new Map<string, Link>();
  /** Client links, by connection (clients' names are labels, not identities). */
  readonly clients = new Map<Conn, Link>();

  /** Every link to a node (client links are not among them). */
  all(): Link[] {
    return [...this.links.values()];
  }

  /** Node links and client links: what heartbeats and silence checks cover. */
  everyLink(): Link[] {
    return this.clients.size === 0 ? [...this.links.values()] : [...this.links.values(), ...this.clients.values()];
  }

  /** Whether `link` is still open (not replaced or closed). */
  isCurrent(link: Link): boolean {
    return link.client ? this.clients.get(link.conn) === link : this.links.get(link.peer.name) === link;
  }

  /** The link on this connection, if it is one. */
  linkOf(conn: Conn): Link | undefined {
    const client = this.clients.get(conn);
    if (client) return client;
    for (const link of this.links.values()) if (link.conn === conn) return link;
    return undefined;
  }
}
