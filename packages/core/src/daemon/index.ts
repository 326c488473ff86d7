/**
 * @packageDocumentation
 * `@weft/core/daemon` — a Weft node as a process: {@link NodeDaemon} (what
 * `weft init`, `weft join` and `weft run` start: store over mutual TLS, data
 * plane, node, join service, certificate renewal) and its local control API
 * on a Unix socket ({@link ControlServer}); `WeftClient` in `@weft/core`
 * talks to it.
 */
export { NodeDaemon, type NodeDaemonOptions, type DaemonStart } from './node-daemon';
export { ControlServer, type ControlServerOptions, type ControlServerStats, type ControlHandler } from './control-server';
export { jsonLogger, silentLogger, LOG_LEVELS, type Logger, type LogLevel } from './logger';
export { CONTROL_PROTOCOL_VERSION, type ControlMethod, type ControlResults, type ParamsOf, type NodeSummary, type EndpointSummary, type PingResult, type JoinTokenInfo, type DaemonStats, type ReconcileSummary } from './api';
export { ControlSocketInUseError, UnknownMethodError, NodeUnreachableError, RemoteNodeError, LocalEndpointNotFoundError, DataDirError, NotAManagerError } from './errors';
