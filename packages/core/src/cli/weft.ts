#!/usr/bin/env node
/**
 * `weft`: runs a Weft node as a process (`weft init`, `weft join`, `weft run`)
 * and drives a running one over its control socket (every other command),
 * as the docker CLI drives dockerd.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { WeftClient } from '../client/weft-client';
import type { JoinResult } from '../cluster/join/join-client';
import type { DaemonStart } from '../daemon/node-daemon';
import { jsonLogger, LOG_LEVELS, type LogLevel } from '../daemon/logger';
import { formatDuration, parseDuration, table } from './format';

/** The package version, read from @weft/core's package.json next to the build (or the source). */
const VERSION: string = (() => {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      return (require(join(__dirname, rel)) as { name?: string; version: string }).version;
    } catch {
      // try the next layout
    }
  }
  return '0.0.0';
})();

const defaultDataDir = (): string => (process.getuid?.() === 0 ? '/var/lib/weft' : join(homedir(), '.weft'));

function int(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    if (!/^[0-9]+$/.test(v)) throw new InvalidArgumentError(`${name} must be a whole number`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}`);
    return n;
  };
}

function duration(name: string): (v: string) => number {
  return (v) => {
    const ms = parseDuration(v);
    if (ms === undefined) throw new InvalidArgumentError(`${name} must be a duration such as 500ms, 30s, 2h or 90d`);
    return ms;
  };
}

interface Globals {
  dataDir?: string;
  socket?: string;
  format: 'table' | 'json';
}

const program = new Command();
program
  .name('weft')
  .description('Run a Weft overlay-network node, and drive it.')
  .version(VERSION, '-v, --version', 'print the version')
  .option('-d, --data-dir <dir>', `the node's data dir (default ${defaultDataDir()})`)
  .option('-s, --socket <path>', "the node's control socket (default <data dir>/weft.sock)")
  .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
  .showHelpAfterError()
  .exitOverride();

const globals = (): Globals => program.opts<Globals>();
const dataDirOf = (): string => globals().dataDir ?? defaultDataDir();
const socketOf = (): string => globals().socket ?? join(dataDirOf(), 'weft.sock');

/** Prints rows as columns, or as JSON with --format json. */
function print(value: unknown, columns?: readonly [header: string, cell: (row: never) => unknown][]): void {
  if (globals().format === 'json' || columns === undefined) {
    process.stdout.write(JSON.stringify(value, null, globals().format === 'json' ? 2 : 2) + '\n');
    return;
  }
  const rows = Array.isArray(value) ? value : [value];
  process.stdout.write(table(columns.map(([h]) => h), rows.map((r) => columns.map(([, cell]) => String(cell(r as never) ?? '')))));
}

async function withClient<T>(fn: (c: WeftClient) => Promise<T>): Promise<T> {
  const client = await WeftClient.connect({ socketPath: socketOf() });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Options every node-starting command takes. */
function nodeCommand(cmd: Command): Command {
  return cmd
    .option('--node-id <id>', 'the node id (default: generated)')
    .option('--advertise-addr <ip>', 'the address other nodes reach this one at', '127.0.0.1')
    .option('--listen-addr <ip>', 'the address the control listeners bind (default: the advertise address)')
    .option('--join-port <port>', 'join service port (managers)', int('--join-port', 0, 65535), 2377)
    .option('--store-port <port>', 'store API port (managers)', int('--store-port', 0, 65535), 2378)
    .option('--raft-port <port>', 'Raft port (managers)', int('--raft-port', 0, 65535), 2379)
    .option('--data-addr <ip>', "the data plane's underlay address (default: the advertise address)")
    .option('--vxlan-port <port>', 'UDP port of plain VXLAN (0: any)', int('--vxlan-port', 0, 65535), 4789)
    .option('--encrypted-port <port>', 'UDP port of encrypted VXLAN (0: any)', int('--encrypted-port', 0, 65535), 4790)
    .addOption(new Option('--data-plane <kind>', 'userspace (endpoints in this process) or kernel (@weft/linux: containers are network namespaces; root)').choices(['userspace', 'kernel']).default('userspace'))
    .option('--no-egress', "kernel data plane: no egress for containers (default: a gateway bridge with masquerade, as Docker's docker_gwbridge)")
    .option('--egress-subnet <cidr>', "kernel data plane: the gateway bridge's IPv4 subnet (default: the first free of 172.18.0.0/16 ... 172.31.0.0/16)")
    .option('--live-restore', 'kernel data plane: a graceful stop leaves containers their interfaces and traffic, for the next start to adopt')
    .option('--cert-lifetime <duration>', 'lifetime of node certificates (init only)', duration('--cert-lifetime'))
    .option('--election-timeout <duration>', 'Raft election timeout', duration('--election-timeout'), 1000)
    .option('--raft-heartbeat <duration>', 'Raft heartbeat interval', duration('--raft-heartbeat'), 100)
    .option('--heartbeat <duration>', "the node's heartbeat in the store", duration('--heartbeat'), 2000)
    .addOption(new Option('--log-level <level>', 'log level').choices([...LOG_LEVELS]).default('info'));
}

interface NodeFlags {
  nodeId?: string;
  advertiseAddr: string;
  listenAddr?: string;
  joinPort: number;
  storePort: number;
  raftPort: number;
  dataAddr?: string;
  vxlanPort: number;
  encryptedPort: number;
  dataPlane: 'userspace' | 'kernel';
  egress?: boolean;
  egressSubnet?: string;
  liveRestore?: boolean;
  certLifetime?: number;
  electionTimeout: number;
  raftHeartbeat: number;
  heartbeat: number;
  logLevel: LogLevel;
}

/**
 * Loads the node's heavier dependencies one at a time, letting pending I/O
 * (the join exchange) run between them: loading a module blocks the process,
 * and the exchange would otherwise wait for all of them. What is not listed
 * here loads with the daemon, as before; the list only orders the loading.
 */
async function loadNodeModulesYielding(): Promise<void> {
  const turn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
  // A turn first: the exchange's connection is only opened on the next turn of the event loop.
  await turn();
  // Smallest first, so the exchange's first round trips (TCP, TLS) get their turns early.
  const modules = [
    () => import('dns-packet'),
    () => import('@weft/crypto'),
    () => import('@weft/ipam'),
    () => import('@weft/raft'),
    () => import('@weft/vxlan'),
    () => import('../node/weft-node'),
  ];
  for (const load of modules) {
    await load();
    await turn();
  }
}

/** Runs a node in the foreground until SIGINT or SIGTERM. */
async function runNode(start: DaemonStart, f: Partial<NodeFlags> & { logLevel: LogLevel }): Promise<void> {
  const logger = jsonLogger(f.logLevel);
  // `weft join`: the exchange with the manager starts first (it loads only the PKI and the join client)
  // and runs while the node's modules load; NodeDaemon.start takes it over.
  let joining: Promise<JoinResult> | undefined;
  if (start.kind === 'join') {
    const { startJoin } = await import('../daemon/early-join');
    joining = startJoin({ dataDir: dataDirOf(), token: start.token, manager: start.manager, nodeId: f.nodeId });
    if (joining !== undefined) await loadNodeModulesYielding();
  }
  // Loaded here, not at the top: client commands and --version never load the node (Raft, LevelDB, X.509).
  const { NodeDaemon } = await import('../daemon/node-daemon');
  const daemon = await NodeDaemon.start({
    dataDir: dataDirOf(),
    ...(globals().socket !== undefined ? { socketPath: globals().socket } : {}),
    start,
    logger,
    ...(f.nodeId !== undefined ? { nodeId: f.nodeId } : {}),
    ...(f.advertiseAddr !== undefined ? { advertiseAddr: f.advertiseAddr } : {}),
    ...(f.listenAddr !== undefined ? { listenAddr: f.listenAddr } : {}),
    ...(f.joinPort !== undefined ? { ports: { join: f.joinPort, store: f.storePort!, raft: f.raftPort! } } : {}),
    ...(f.dataAddr !== undefined ? { dataAddr: f.dataAddr } : {}),
    ...(f.vxlanPort !== undefined ? { vxlanPort: f.vxlanPort } : {}),
    ...(f.encryptedPort !== undefined ? { encryptedPort: f.encryptedPort } : {}),
    ...(f.dataPlane !== undefined ? { dataPlane: f.dataPlane } : {}),
    ...(f.egress === false ? { egress: false as const } : f.egressSubnet !== undefined ? { egress: { subnet: f.egressSubnet } } : {}),
    ...(f.liveRestore !== undefined ? { liveRestore: f.liveRestore } : {}),
    ...(f.certLifetime !== undefined ? { certLifetimeMs: f.certLifetime } : {}),
    ...(f.electionTimeout !== undefined ? { electionTimeoutMs: f.electionTimeout } : {}),
    ...(f.raftHeartbeat !== undefined ? { raftHeartbeatMs: f.raftHeartbeat } : {}),
    ...(f.heartbeat !== undefined ? { heartbeatIntervalMs: f.heartbeat } : {}),
  }, { joining });
  const info = daemon.summary();
  if (start.kind === 'init') {
    const c = await WeftClient.connect({ socketPath: daemon.socketPath });
    try {
      const worker = await c.joinToken('worker');
      process.stdout.write(`Cluster initialized: node ${info.id} is now a manager.\n\nTo add a worker:\n    weft join ${worker.token} ${info.joinAddress}\n\nTo add a manager: weft join-token manager\n`);
    } catch (err) {
      logger.warn('join token unavailable', { err });
    } finally {
      await c.close();
    }
  } else {
    process.stdout.write(`Node ${info.id} (${info.role}) is running; control socket ${daemon.socketPath}\n`);
  }
  await new Promise<void>((resolve) => {
    // After `weft leave` the node closes itself: the process ends with it.
    void daemon.closed.then(() => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve();
    });
    const stop = (signal: string): void => {
      logger.info('stopping', { signal });
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      void daemon.close().finally(resolve);
    };
    const onInt = (): void => stop('SIGINT');
    const onTerm = (): void => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}

nodeCommand(program.command('init').description('create a new cluster with this node as its first manager, and run the node')).action(async (f: NodeFlags) => {
  await runNode({ kind: 'init' }, f);
});

nodeCommand(
  program
    .command('join')
    .description("join a cluster with a join token through a manager's join service (HOST:PORT), and run the node")
    .argument('<token>', 'a join token (WEFT-1-...): its role decides the node role')
    .argument('<manager>', "a manager's join address, HOST:PORT"),
).action(async (token: string, manager: string, f: NodeFlags) => {
  await runNode({ kind: 'join', token, manager }, f);
});

program
  .command('run')
  .description('start the node the data dir holds again (after a stop or a crash)')
  .addOption(new Option('--log-level <level>', 'log level').choices([...LOG_LEVELS]).default('info'))
  .option('--live-restore', 'kernel data plane: from now on a graceful stop leaves the kernel state (kept in the data dir)')
  .option('--no-live-restore', 'kernel data plane: from now on a graceful stop removes the kernel state')
  .action(async (f: { logLevel: LogLevel; liveRestore?: boolean }) => {
    await runNode({ kind: 'resume' }, f);
  });

program
  .command('leave')
  .description('this node leaves the cluster (endpoints detached, out of Raft, marked removed); its process then stops')
  .action(async () => {
    await withClient((c) => c.leave());
    process.stdout.write('Node left the cluster.\n');
  });

program
  .command('reconcile')
  .description("reconcile the node's kernel data plane with its desired state now; print what changed")
  .action(async () => {
    const r = await withClient((c) => c.reconcile());
    if (globals().format === 'json') print(r);
    else if (!r.supported) process.stdout.write('Nothing to reconcile (userspace data plane).\n');
    else {
      for (const c of r.changes) process.stdout.write(`${c.action}\t${c.kind}\t${c.namespace}\t${c.target}\n`);
      for (const e of r.errors) process.stdout.write(`error\t${e.namespace}\t${e.error}\n`);
      process.stdout.write(`${r.changes.length} changes, ${r.errors.length} errors\n`);
    }
    if (r.errors.length > 0) process.exitCode = 1;
  });

program
  .command('info')
  .description('who the node is')
  .action(async () => {
    const i = await withClient((c) => c.info());
    print(i, [
      ['ID', (r: typeof i) => r.id],
      ['ROLE', (r: typeof i) => r.role],
      ['ADDRESS', (r: typeof i) => r.address],
      ['JOIN', (r: typeof i) => r.joinAddress ?? ''],
      ['LEADER', (r: typeof i) => r.leader ?? ''],
      ['CERT SERIAL', (r: typeof i) => r.certificateSerial ?? ''],
      ['CERT EXPIRES', (r: typeof i) => r.certificateNotAfter ?? ''],
    ]);
  });

program
  .command('stats')
  .description("the node's counters (Raft, store, join service, data plane, peers per network), as JSON")
  .action(async () => {
    process.stdout.write(JSON.stringify(await withClient((c) => c.stats()), null, 2) + '\n');
  });

const network = program.command('network').description('manage overlay networks');
network
  .command('create')
  .argument('<name>')
  .option('--subnet <cidr>', 'the subnet (default: from the default pools)')
  .option('--gateway <ip>', 'the gateway address')
  .option('--encrypted', 'encrypt traffic between nodes (AES-256-GCM)', false)
  .option('--attachable', 'standalone endpoints may attach', true)
  .option('--no-attachable', 'only service tasks may attach')
  .option('--internal', 'no egress to the outside', false)
  .option('--mtu <bytes>', 'overlay MTU', int('--mtu', 68, 65535))
  .option('--label <key=value...>', 'labels')
  .action(async (name: string, f: { subnet?: string; gateway?: string; encrypted: boolean; attachable: boolean; internal: boolean; mtu?: number; label?: string[] }) => {
    const labels: Record<string, string> = {};
    for (const l of f.label ?? []) {
      const i = l.indexOf('=');
      if (i <= 0) throw new InvalidArgumentError(`--label ${l}: expected key=value`);
      labels[l.slice(0, i)] = l.slice(i + 1);
    }
    const info = await withClient((c) =>
      c.createNetwork({
        name,
        encrypted: f.encrypted,
        attachable: f.attachable,
        internal: f.internal,
        labels,
        ...(f.subnet !== undefined ? { subnet: f.subnet } : {}),
        ...(f.gateway !== undefined ? { gateway: f.gateway } : {}),
        ...(f.mtu !== undefined ? { mtu: f.mtu } : {}),
      }),
    );
    if (globals().format === 'json') print(info);
    else process.stdout.write(`${info.id}\n`);
  });
network
  .command('ls')
  .action(async () => {
    const list = await withClient((c) => c.listNetworks());
    type N = (typeof list)[number];
    print(list, [
      ['NETWORK ID', (n: N) => n.id.slice(0, 12)],
      ['NAME', (n: N) => n.name],
      ['SUBNET', (n: N) => n.subnet],
      ['VNI', (n: N) => n.vni],
      ['ENCRYPTED', (n: N) => n.encrypted],
      ['MTU', (n: N) => n.mtu],
    ]);
  });
network
  .command('inspect')
  .argument('<network>')
  .action(async (name: string) => {
    process.stdout.write(JSON.stringify(await withClient((c) => c.inspectNetwork(name)), null, 2) + '\n');
  });
network
  .command('rm')
  .argument('<network>')
  .action(async (name: string) => {
    await withClient((c) => c.removeNetwork(name));
    process.stdout.write(`${name}\n`);
  });

const nodeCmd = program.command('node').description('manage the nodes of the cluster (on a manager)');
nodeCmd.command('ls').action(async () => {
  const list = await withClient((c) => c.listNodes());
  type N = (typeof list)[number];
  print(list, [
    ['ID', (n: N) => n.id],
    ['ROLE', (n: N) => n.role],
    ['ADDRESS', (n: N) => n.address],
    ['STATUS', (n: N) => n.status],
    ['LEADER', (n: N) => (n.leader ? 'leader' : '')],
    ['AVAILABILITY', (n: N) => (n as { availability?: string }).availability ?? 'active'],
  ]);
});
nodeCmd
  .command('promote')
  .argument('<node>')
  .action(async (id: string) => {
    await withClient((c) => c.promoteNode(id));
    process.stdout.write(`Node ${id} promoted to a manager.\n`);
  });
nodeCmd
  .command('demote')
  .argument('<node>')
  .action(async (id: string) => {
    await withClient((c) => c.demoteNode(id));
    process.stdout.write(`Manager ${id} demoted to a worker.\n`);
  });
nodeCmd
  .command('rm')
  .argument('<node>')
  .option('--force', 'remove a node that is still up', false)
  .action(async (id: string, f: { force: boolean }) => {
    await withClient((c) => c.removeNode(id, { force: f.force }));
    process.stdout.write(`${id}\n`);
  });

program
  .command('join-token')
  .description('print (or rotate) the join token of a role')
  .argument('<role>', 'worker or manager')
  .option('--rotate', 'make a new token; the old one stops working', false)
  .option('-q, --quiet', 'print the token only', false)
  .action(async (role: string, f: { rotate: boolean; quiet: boolean }) => {
    if (role !== 'worker' && role !== 'manager') throw new InvalidArgumentError('role must be worker or manager');
    const t = await withClient((c) => c.joinToken(role, { rotate: f.rotate }));
    if (globals().format === 'json') print(t);
    else if (f.quiet) process.stdout.write(`${t.token}\n`);
    else process.stdout.write(`To add a ${role} to this cluster, run:\n\n    weft join ${t.token} ${t.managers[0] ?? '<manager>'}\n`);
  });

const endpoint = program.command('endpoint').description('userspace endpoints living in the node process');
endpoint
  .command('attach')
  .argument('<network>')
  .argument('<name>')
  .option('--ip <address>', 'a static address in the subnet')
  .option('--alias <name...>', 'more names')
  .option('--netns <path>', "kernel data plane: the container's network namespace (/var/run/netns/NAME or /proc/PID/ns/net)")
  .option('--ifname <name>', 'kernel data plane: the interface name inside it (default eth0)')
  .option('--resolv-conf <file>', "kernel data plane: write this resolv.conf naming the network's DNS server (e.g. /etc/netns/NAME/resolv.conf)")
  .action(async (net: string, name: string, f: { ip?: string; alias?: string[]; netns?: string; ifname?: string; resolvConf?: string }) => {
    const e = await withClient((c) =>
      c.attachEndpoint(net, name, {
        ...(f.ip !== undefined ? { ip: f.ip } : {}),
        ...(f.alias !== undefined ? { aliases: f.alias } : {}),
        ...(f.netns !== undefined ? { netns: f.netns } : {}),
        ...(f.ifname !== undefined ? { interfaceName: f.ifname } : {}),
        ...(f.resolvConf !== undefined ? { resolvConf: f.resolvConf } : {}),
      }),
    );
    type E = typeof e;
    print(e, [
      ['ENDPOINT ID', (r: E) => r.id],
      ['NAME', (r: E) => r.name],
      ['NETWORK', (r: E) => r.network],
      ['IP', (r: E) => r.ip],
      ['MAC', (r: E) => r.mac],
    ]);
  });
endpoint.command('ls').action(async () => {
  const list = await withClient((c) => c.listEndpoints());
  type E = (typeof list)[number];
  print(list, [
    ['ENDPOINT ID', (r: E) => r.id],
    ['NAME', (r: E) => r.name],
    ['NETWORK', (r: E) => r.network],
    ['IP', (r: E) => r.ip],
    ['MAC', (r: E) => r.mac],
  ]);
});
endpoint
  .command('ping')
  .argument('<endpoint>', 'the endpoint to ping from')
  .argument('<target>', 'a name or address on its network')
  .option('-c, --count <n>', 'echoes to send', int('--count', 1, 1000), 3)
  .option('-i, --interval <duration>', 'between echoes', duration('--interval'), 200)
  .option('-W, --timeout <duration>', 'per echo', duration('--timeout'), 1000)
  .action(async (ep: string, target: string, f: { count: number; interval: number; timeout: number }) => {
    const r = await withClient((c) => c.ping(ep, target, { count: f.count, intervalMs: f.interval, timeoutMs: f.timeout }));
    if (globals().format === 'json') print(r);
    else {
      for (const [i, rtt] of r.rttMs.entries()) process.stdout.write(`reply from ${target}: seq=${i} time=${formatDuration(rtt)}\n`);
      for (const e of r.errors) process.stdout.write(`no reply: ${e}\n`);
      process.stdout.write(`${r.sent} sent, ${r.received} received\n`);
    }
    if (r.received === 0) process.exitCode = 1;
  });
endpoint
  .command('rm')
  .argument('<endpoint>')
  .action(async (ep: string) => {
    await withClient((c) => c.detachEndpoint(ep));
    process.stdout.write(`${ep}\n`);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  const e = err as { code?: string; exitCode?: number; name?: string; message?: string };
  // commander's own exits (help, version, usage errors) have printed already.
  if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
    process.exitCode = e.exitCode ?? 1;
    return;
  }
  process.stderr.write(`weft: ${e.name ?? 'Error'}: ${e.message ?? String(err)}\n`);
  process.exitCode = 1;
});
