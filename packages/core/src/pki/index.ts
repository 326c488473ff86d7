/**
 * @packageDocumentation
 * `@weft/core/pki` — the cluster's public-key infrastructure, the foundation
 * of authenticated clusters (Docker Swarm's model): a cluster CA (ECDSA
 * P-256), node certificates naming the node id and its role, certificate
 * signing requests with proof of possession, join tokens
 * `WEFT-1-<CA digest>-<secret>` that pin the CA, and `node:tls` options for
 * mutual TLS 1.3 between nodes with the peer's identity read from its
 * certificate; and the certificate lifecycle: the cluster's CA and join
 * tokens kept in the store (`initClusterPki`), a manager's join port
 * (`JoinServer`), joining and renewing (`joinCluster`, `renewCertificate`,
 * `CertificateRenewer`) and the deny list (`DenyList`).
 *
 * A subpath of its own: it loads `@peculiar/x509` (and the `reflect-metadata`
 * polyfill that library needs, which patches the global `Reflect`), which
 * users of `@weft/core` who do not run authenticated clusters should not pay for.
 */
export * from '../cluster/pki';
export * from '../cluster/join';
