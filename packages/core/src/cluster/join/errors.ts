import { CoreError } from '../../errors';

/** A join whose token grants another role than the one the joining node asked for (e.g. a worker token used to join as a manager). */
export class JoinRoleMismatchError extends CoreError {
  override name = 'JoinRoleMismatchError';
  override readonly code = 'ERR_JOIN_ROLE_MISMATCH';
  constructor(
    /** The role the joining node asked for. */
    readonly requested: string,
    /** The role its token grants. */
    readonly granted: string,
  ) {
    super(`join refused: the token is a ${granted} token, but the node asked to join as a ${requested}`);
  }
}

/** A join that names a node id held by a live node with another key (its certificate is valid and not deny-listed). */
export class NodeIdTakenError extends CoreError {
  override name = 'NodeIdTakenError';
  override readonly code = 'ERR_NODE_ID_TAKEN';
  constructor(readonly nodeId: string) {
    super(`join refused: node id ${JSON.stringify(nodeId)} is held by another node (another key, with a valid certificate)`);
  }
}

/** The cluster's PKI records are not in the store (no `initClusterPki` yet) or do not parse. */
export class ClusterPkiMissingError extends CoreError {
  override name = 'ClusterPkiMissingError';
  override readonly code = 'ERR_CLUSTER_PKI_MISSING';
  constructor(readonly reason: string) {
    super(`cluster PKI unavailable: ${reason}`);
  }
}

/**
 * A join or renewal exchange that failed for a reason without a more specific
 * class: a malformed request or answer, a connection closed or timed out
 * before the answer, a refusal the client does not know by name.
 */
export class JoinFailedError extends CoreError {
  override name = 'JoinFailedError';
  override readonly code = 'ERR_JOIN_FAILED';
  constructor(
    readonly reason: string,
    /** The name of the error on the server, when the server sent one. */
    readonly remoteName?: string,
    options?: { cause?: unknown },
  ) {
    super(`join/renew failed: ${reason}`, options);
  }
}
