/**
 * Links: authenticated, one-per-pair connections between nodes, with
 * heartbeats. The public surface of link/ (the design is in
 * link/link-layer.ts's header; the handshake, link table, outbox and
 * failure detector each have their own file there).
 */
export { LinkLayer, REFUSAL_LOG_BURST } from './link/link-layer.js';
export { CLIENT_LINKS_SINCE, handshakeProof } from './link/handshake.js';
export { linkHeartbeat } from './link/failure-detector.js';
export type {
  ClientLinkEvents,
  DialFailure,
  DialFailureCode,
  HeartbeatTiming,
  Link,
  LinkConfig,
  LinkEvents,
  LinkStats,
  LinkLayerOptions,
  LinkTiming,
  LocalIdentity,
  PeerIdentity,
  ProtocolVersion,
} from './link/types.js';
