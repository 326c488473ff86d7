import { CoreError } from '../errors';

/** Another node process already serves this control socket. */
export class ControlSocketInUseError extends CoreError {
  override name = 'ControlSocketInUseError';
  override readonly code = 'ERR_CONTROL_SOCKET_IN_USE';
  constructor(readonly path: string) {
    super(`a node process already answers on ${path}; stop it first, or give another data dir or --socket`);
  }
}

/** The control API has no such method (a client newer than the node process, or a typo). */
export class UnknownMethodError extends CoreError {
  override name = 'UnknownMethodError';
  override readonly code = 'ERR_UNKNOWN_METHOD';
  constructor(readonly method: string) {
    super(`the node process has no method ${JSON.stringify(method)}`);
  }
}

/** The node process could not be reached on its control socket, or the connection ended before the answer. */
export class NodeUnreachableError extends CoreError {
  override name = 'NodeUnreachableError';
  override readonly code = 'ERR_NODE_UNREACHABLE';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`cannot reach the node process on ${path}: ${detail} (is \`weft init\` or \`weft join\` running with this data dir?)`);
  }
}

/** An error the node process answered with whose class this side does not know; `remoteName` and `remoteCode` say what it was. */
export class RemoteNodeError extends CoreError {
  override name = 'RemoteNodeError';
  override readonly code = 'ERR_REMOTE_NODE';
  constructor(
    readonly remoteName: string,
    readonly remoteCode: string,
    message: string,
  ) {
    super(`${remoteName}: ${message}`);
  }
}

/** No endpoint of this node process has this name or id. */
export class LocalEndpointNotFoundError extends CoreError {
  override name = 'LocalEndpointNotFoundError';
  override readonly code = 'ERR_LOCAL_ENDPOINT_NOT_FOUND';
  constructor(readonly endpoint: string) {
    super(`no endpoint ${JSON.stringify(endpoint)} lives in this node process (see \`weft endpoint ls\`)`);
  }
}

/** The data dir holds no node, or a node other than the command expects (e.g. `weft init` on a dir that already holds one). */
export class DataDirError extends CoreError {
  override name = 'DataDirError';
  override readonly code = 'ERR_DATA_DIR';
  constructor(
    readonly dataDir: string,
    detail: string,
  ) {
    super(`data dir ${dataDir}: ${detail}`);
  }
}

/** The operation needs a manager, and this node is a worker. */
export class NotAManagerError extends CoreError {
  override name = 'NotAManagerError';
  override readonly code = 'ERR_NOT_A_MANAGER';
  constructor(readonly operation: string) {
    super(`${operation} needs a manager node; this node is a worker (run it against a manager's socket)`);
  }
}
