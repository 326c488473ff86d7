/**
 * The cluster PKI: a cluster CA, node keys, CSRs and certificates that carry
 * a node's id and role, join tokens that pin the CA, and `node:tls` options
 * for mutual TLS 1.3 between nodes (Docker Swarm's model).
 */
export { ClusterCa, type ClusterCaOptions, type ClusterCaLoadOptions, type ClusterCaPem, type IssueOptions } from './cluster-ca';
export { generateNodeKey, exportNodeKeyPem, importNodeKeyPem, type NodeKeyPair } from './keys';
export { createCsr } from './csr';
export { parseNodeCertificate, verifyNodeCertificate, caDigestOf, type VerifyNodeCertificateOptions } from './node-certificate';
export type { NodeIdentity } from './certificate-reader';
export {
  JoinTokens,
  parseJoinToken,
  verifyJoinToken,
  verifyJoinTokenCa,
  JOIN_TOKEN_PREFIX,
  JOIN_TOKEN_DIGEST_LENGTH,
  JOIN_TOKEN_SECRET_LENGTH,
  type JoinTokenRecord,
  type JoinTokenRecords,
  type GeneratedJoinToken,
  type ParsedJoinToken,
  type GenerateJoinTokenOptions,
} from './join-token';
export { tlsOptionsFor, peerIdentity, type NodeCredentials, type NodeTlsOptions, type PeerIdentityOptions } from './tls';
export { transportTlsFor, controlTlsFor, type TransportTlsForOptions, type ControlTlsForOptions } from './transport-tls';
export {
  NODE_ROLES,
  CA_COMMON_NAME,
  DEFAULT_CA_LIFETIME_MS,
  DEFAULT_NODE_CERT_LIFETIME_MS,
  CERT_BACKDATE_MS,
  nodeUri,
  type NodeRole,
} from './profile';
export {
  MalformedCertificateError,
  CertificateNotTrustedError,
  CertificateExpiredError,
  CertificateRevokedError,
  CsrRejectedError,
  MalformedKeyError,
  InvalidJoinTokenError,
  JoinTokenCaMismatchError,
  JoinTokenRejectedError,
  UnexpectedPeerError,
} from './errors';
