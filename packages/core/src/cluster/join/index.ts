/**
 * Joining a cluster and keeping certificates fresh (Docker Swarm's model):
 * the cluster's PKI records in the store, a manager's join port, the joining
 * and renewing client, the deny list the TLS layer consults, and a
 * certificate renewer.
 */
export { initClusterPki, loadClusterPki, joinTokenOf, rotateJoinToken, type InitClusterPkiOptions, type InitClusterPkiResult, type ClusterPkiOptions } from './cluster-pki';
export { JoinServer, type JoinServerOptions, type JoinServerStats, type JoinInfo, type ManagerEntry } from './join-server';
export { joinCluster, renewCertificate, type JoinClusterOptions, type RenewCertificateOptions, type JoinResult } from './join-client';
export { DenyList, pruneDeniedSerials, type DenyListOptions } from './deny-list';
export { CertificateRenewer, type CertificateRenewerOptions } from './renewer';
export { JoinRoleMismatchError, NodeIdTakenError, ClusterPkiMissingError, JoinFailedError } from './errors';
