/**
 * Issue 8's error model, checked over every public entry of every package:
 * each constructor and factory, given bad options, throws (or rejects with)
 * `@weft/interface`'s `InvalidOptionsError` — recognised with
 * `isWeftError(err, 'ERR_INVALID_OPTIONS')`, not `instanceof` — whose `field`
 * names the option and whose message is one line containing that field. No
 * `ZodError` is thrown (it may be the `cause`).
 *
 * The entries are discovered, not listed: every `exports` subpath of every
 * `packages/*\/package.json`, plus every `@weft/<pkg>/<sub>` path of the root
 * tsconfig whose source exists. Each runtime export of each entry (and each
 * static method of an exported class) needs one row in `table` below: a case
 * (probes that must fail with the right field) or an exemption whose kind the
 * test checks (an `error` must extend WeftError, a `constant` must not be a
 * function, `internal` needs a private or `@internal` constructor in the
 * source, `no-args` must construct with no arguments). An export with no row
 * fails the test, and so does a row for something no longer exported. A
 * value that is `@weft/interface`'s own export re-exported unchanged (the
 * same object) is covered by the interface row.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZodError, z } from 'zod';
import * as iface from '@weft/interface';
import { ManualClock, isWeftError, parseOptions, seededRandom } from '@weft/interface';
import {
  ArpResolver,
  Endpoint,
  Fdb,
  FilePcapSink,
  FrameSlab,
  MemoryNetwork,
  PcapWriter,
  UdpUnderlay,
  Vtep,
  captureOuter,
  type MemoryUnderlay,
} from '@weft/vxlan';
import {
  EncryptedUnderlay,
  Identity,
  KeyRing,
  NetworkKeys,
  ReplayWindow,
  SecurityAssociation,
  createAeadCipher,
  derivePairKey,
  hkdfSha256,
} from '@weft/crypto';
import { Ipam, IpamStateMachine, createState, resolveOptions } from '@weft/ipam';
import {
  FrameDecoder,
  KvStore,
  MemoryStorage,
  MemoryTransport,
  MemoryTransportNetwork,
  RaftKv,
  RaftNode,
  RawNode,
  TcpTransport,
  memoryStores,
} from '@weft/raft';
import { LevelStorage } from '@weft/raft/level';
import { Prng, checkLinearizability, kvModel } from '@weft/raft/testing';
import { CommandRunner, KernelDataPlane } from '@weft/linux';
import { packageEntries } from '../test-support/package-entries';

const root = join(__dirname, '..');

// ---------------------------------------------------------------------------
// Rows

/** A call that must fail with InvalidOptionsError, and the field it must name. */
type Probe = readonly [call: () => unknown, field: string];
type ExemptKind = 'error' | 'constant' | 'pure' | 'no-args' | 'internal';
type Row =
  | { readonly kind: 'case'; readonly probes: readonly Probe[] }
  | { readonly kind: 'exempt'; readonly why: ExemptKind; readonly reason: string };

/** Probes of positional arguments. */
const bad = (...probes: Probe[]): Row => ({ kind: 'case', probes });
/** An options object: `badOptions` must name `field`; `null` and `42` must name `(options)`. */
const opts = (make: (options: never) => unknown, badOptions: object, field: string): Row =>
  bad([() => make(badOptions as never), field], [() => make(null as never), '(options)'], [() => make(42 as never), '(options)']);
const error: Row = { kind: 'exempt', why: 'error', reason: 'an error class' };
const constant = (reason = 'a constant'): Row => ({ kind: 'exempt', why: 'constant', reason });
const pure = (reason: string): Row => ({ kind: 'exempt', why: 'pure', reason });
const noArgs: Row = { kind: 'exempt', why: 'no-args', reason: 'its constructor takes no arguments' };
const internal = (reason: string): Row => ({ kind: 'exempt', why: 'internal', reason });

const CODEC = 'codec/wire helper over bytes: bad bytes throw MalformedPacketError, bad values InvalidFieldError';
const TEXT = 'address text or value helper: bad text throws InvalidAddressError';
const MATH = 'pure computation over already-parsed values';

// Fixtures (cheap; nothing here opens a socket or a file).
const mem = (): MemoryUnderlay => new MemoryNetwork().attach();
const noop = (): void => undefined;
const arpSettings = { clock: new ManualClock(), arpTimeoutMs: 500, arpRetries: 3, neighbourTtlMs: 60_000, maxPendingPerHost: 8 };
const ring = (): KeyRing => new KeyRing({ secret: new Uint8Array(32).fill(1) });
const neverCreated = join(tmpdir(), `weft-bad-options-${process.pid}`);
const raftNodeOptions = (): Record<string, unknown> => ({
  id: 'n1',
  peers: ['n1'],
  stateMachine: new KvStore(),
  transport: new MemoryTransportNetwork().transport('n1'),
  stores: memoryStores(),
});
const fakeNode = { propose: noop, read: noop };

/** Core is typed loosely: its exports change while it is being written, and a rename must fail here, not in typecheck. */
type Ctor = new (...args: unknown[]) => unknown;
const core = (entry: string, name: string): Ctor & ((...args: unknown[]) => unknown) & Record<'open' | 'listen' | 'start' | 'connect', (options: unknown) => unknown> =>
  (require(entry) as Record<string, never>)[name] as never;

const table: Record<string, Record<string, Row>> = {
  '@weft/interface': {
    BROADCAST_MAC: constant(),
    DataPlaneError: error,
    InvalidAddressError: error,
    InvalidOptionsError: error,
    MalformedPacketError: error,
    ManualClock: bad([() => new ManualClock('soon' as never), 'start'], [() => new ManualClock(Number.NaN), 'start']),
    StoreClosedError: error,
    StoreError: error,
    StoreUnavailableError: error,
    QuorumLostError: error,
    UnderlayClosedError: error,
    WEFT_ERROR_BRAND: constant('the Symbol.for brand'),
    WatchCompactedError: error,
    WeftError: error,
    canonicalIp: pure(TEXT),
    cmp: constant('request builders: plain data that the Store receiving it validates'),
    familyBits: pure(MATH),
    formatIp: pure(TEXT),
    formatIpv4: pure(TEXT),
    formatIpv6: pure(TEXT),
    formatMac: pure(TEXT),
    formatSocketAddress: pure(TEXT),
    isValidIp: pure(TEXT),
    isValidIpv4: pure(TEXT),
    isValidIpv6: pure(TEXT),
    isValidMac: pure(TEXT),
    isWeftError: pure('a predicate'),
    jsonBytes: pure(TEXT),
    jsonOf: pure(TEXT),
    kv: constant('request builders: plain data that the Store receiving it validates'),
    macForIpv4: pure(TEXT),
    parseIp: pure(TEXT),
    parseIpv4: pure(TEXT),
    parseIpv6: pure(TEXT),
    parseMac: pure(TEXT),
    parseOptions: bad([() => parseOptions(z.object({ mtu: z.number().min(68) }), { mtu: 10 }, 'Test'), 'mtu']),
    parseSocketAddress: pure(TEXT),
    readIpv6: pure(TEXT),
    sameSocketAddress: pure(TEXT),
    seededRandom: bad([() => seededRandom(Number.NaN), 'seed'], [() => seededRandom('7' as never), 'seed']),
    systemClock: constant('a Clock'),
    textOf: pure(TEXT),
    toSocketAddress: pure(TEXT),
    tryParseIp: pure(TEXT),
    tryParseIpv4: pure(TEXT),
    tryParseIpv6: pure(TEXT),
    tryWriteMac: pure(TEXT),
    utf8: pure(TEXT),
    valueBytes: pure(TEXT),
    wallClock: constant('a Clock'),
    writeIpv6: pure(TEXT),
  },
  '@weft/vxlan': {
    ARP_LENGTH: constant(),
    ArpResolver: bad([() => new ArpResolver({ ...arpSettings, arpTimeoutMs: -5 }, noop, noop), 'arpTimeoutMs'], [() => new ArpResolver(arpSettings, 'send' as never, noop), 'sendRequest']),
    DEFAULT_UNDERLAY_PORT: constant(),
    DROP: constant(),
    DROP_REASONS: constant(),
    DnsServerFailureError: error,
    DnsTimeoutError: error,
    DnsTruncatedError: error,
    ETHERNET_HEADER_LENGTH: constant(),
    ETHERTYPE_ARP: constant(),
    ETHERTYPE_IPV4: constant(),
    ETHERTYPE_IPV6: constant(),
    ETHERTYPE_VLAN: constant(),
    Endpoint: bad(
      [() => new Endpoint({ mac: '02:00:00:00:00', ip: '10.0.0.1' }), 'mac'],
      [() => new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.1', nameserver: 'dns.example' }), 'nameserver'],
      [() => new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.1', maxLookups: 0 }), 'maxLookups'],
      [() => new Endpoint(null as never), '(options)'],
      [() => new Endpoint(42 as never), '(options)'],
    ),
    EndpointClosedError: error,
    EndpointError: error,
    EndpointUdpSocket: internal('built by Endpoint.bind'),
    FLOOD: constant(),
    FLOW_PORT_MAX: constant(),
    FLOW_PORT_MIN: constant(),
    Fdb: bad([() => new Fdb(0, 10), 'agingMs'], [() => new Fdb(1000, -1), 'maxLearned']),
    FilePcapSink: bad([() => new FilePcapSink(''), 'path'], [() => new FilePcapSink(7 as never), 'path']),
    FrameSlab: bad([() => new FrameSlab(0), 'slabBytes']),
    HostUnreachableError: error,
    ICMP_ECHO_REPLY: constant(),
    ICMP_ECHO_REQUEST: constant(),
    IPPROTO_ICMP: constant(),
    IPPROTO_UDP: constant(),
    IPV4_HEADER_LENGTH: constant(),
    InvalidFieldError: error,
    LINKTYPE_ETHERNET: constant(),
    MemoryNetwork: opts((o) => new MemoryNetwork(o), { loss: 2 }, 'loss'),
    MemoryPcapSink: noArgs,
    MemoryUnderlay: internal('built by MemoryNetwork.attach'),
    MessageTooLongError: error,
    NameNotFoundError: error,
    NameResolutionError: error,
    NeighbourTable: noArgs,
    NoNameserverError: error,
    PCAP_DEFAULT_SNAPLEN: constant(),
    PCAP_GLOBAL_HEADER_LENGTH: constant(),
    PCAP_MAGIC: constant(),
    PCAP_MAGIC_NANO: constant(),
    PCAP_RECORD_HEADER_LENGTH: constant(),
    PcapClosedError: error,
    PcapWriter: opts((o) => new PcapWriter(o), { sink: { write: noop, close: noop }, snaplen: 0 }, 'snaplen'),
    'PcapWriter.toFile': bad([() => PcapWriter.toFile(''), 'path'], [() => PcapWriter.toFile(join(neverCreated, 'x.pcap'), { snaplen: 0 }), 'snaplen']),
    'PcapWriter.toMemory': opts((o) => PcapWriter.toMemory(o), { clock: 5 }, 'clock'),
    PingTimeoutError: error,
    PortInUseError: error,
    Segment: internal('built by Vtep.addSegment'),
    UDP_FRAME_OVERHEAD: constant(),
    UDP_HEADER_LENGTH: constant(),
    UdpUnderlay: internal('built by UdpUnderlay.bind'),
    'UdpUnderlay.bind': opts((o) => UdpUnderlay.bind(o), { host: 'localhost' }, 'host'),
    TooManyLookupsError: error,
    VLAN_TAG_LENGTH: constant(),
    VXLAN_FLAG_I: constant(),
    VXLAN_HEADER_LENGTH: constant(),
    VXLAN_HEADROOM: constant(),
    VXLAN_MAX_VNI: constant(),
    VXLAN_PORT: constant(),
    Vtep: opts((o) => new Vtep(o), { underlay: mem(), mtu: 10 }, 'mtu'),
    VtepClosedError: error,
    VxlanError: error,
    addChecksum: pure(CODEC),
    arp: constant(CODEC),
    arpRequestTarget: pure(CODEC),
    buildArpReply: pure(CODEC),
    buildUnderlayFrame: pure(`an encoder: its argument is the frame's fields, not options (${CODEC})`),
    captureOuter: bad([() => captureOuter({} as never, PcapWriter.toMemory().writer), 'vtep'], [() => captureOuter(new Vtep({ underlay: mem() }), {} as never), 'writer']),
    decidePortFrame: pure('a forwarding decision: a pure function of frame, FDB and neighbour table'),
    decideRemoteFrame: pure('a forwarding decision: a pure function of frame, FDB and neighbour table'),
    emptyCounters: pure('takes no arguments'),
    ethernet: constant(CODEC),
    finishChecksum: pure(CODEC),
    flowSourcePort: pure(CODEC),
    formatMacKey: pure(CODEC),
    icmpv4: constant(CODEC),
    innerFlowHash: pure(CODEC),
    internetChecksum: pure(CODEC),
    ipv4: constant(CODEC),
    isBroadcastMac: pure(CODEC),
    isIcmpEcho: pure(CODEC),
    isMulticastMac: pure(CODEC),
    l2HeaderLength: pure(CODEC),
    macKey: pure(CODEC),
    macKeyOf: pure(CODEC),
    pseudoHeaderSum: pure(CODEC),
    readIpv4: pure(CODEC),
    readPcap: pure(CODEC),
    readUdpChecksum: pure(CODEC),
    readVni: pure(CODEC),
    totalDrops: pure(MATH),
    udp: constant(CODEC),
    vxlanHeader: constant(CODEC),
    writeIpv4: pure(CODEC),
    writeMac: pure(CODEC),
    writeUdpFrame: pure(CODEC),
    writeVxlanHeader: pure(CODEC),
  },
  '@weft/crypto': {
    AAD_LENGTH: constant(),
    AuthenticationError: error,
    CryptoError: error,
    DEFAULT_REPLAY_WINDOW: constant(),
    EncryptedUnderlay: opts((o) => new EncryptedUnderlay(o), { underlay: 'udp', keyRing: ring(), localId: 'a' }, 'underlay'),
    HEADER_LENGTH: constant(),
    IV_LENGTH: constant(),
    Identity: internal('built by Identity.generate / fromSeed / fromKeys'),
    'Identity.fromKeys': opts((o) => Identity.fromKeys(o), { signingSeed: new Uint8Array(32), agreementSecretKey: new Uint8Array(5) }, 'agreementSecretKey'),
    'Identity.fromSeed': bad([() => Identity.fromSeed(new Uint8Array(31)), 'seed']),
    'Identity.generate': bad([() => Identity.generate(7 as never), 'random']),
    'Identity.verify': pure('verifies a signature; false for anything that does not verify'),
    KEY_LENGTH: constant(),
    KeyAgreementError: error,
    KeyRing: opts((o) => new KeyRing(o), { secret: new Uint8Array(8) }, 'secret'),
    KeyPlanError: error,
    KeyRingDisposedError: error,
    MAX_REPLAY_WINDOW: constant(),
    MIN_REPLAY_WINDOW: constant(),
    NetworkKeys: internal('built by NetworkKeys.create'),
    'NetworkKeys.create': opts((o) => NetworkKeys.create(o), { suite: 'aes-256-gcm', keys: [{ generation: 1, secret: new Uint8Array(32) }], sendGeneration: 7 }, 'sendGeneration'),
    PACKET_OVERHEAD: constant(),
    PAIR_KEY_HKDF_SALT: constant(),
    REPLAY_DUPLICATE: constant(),
    REPLAY_OK: constant(),
    REPLAY_OLD: constant(),
    ReplayError: error,
    ReplayWindow: bad([() => new ReplayWindow(33), 'size']),
    SALT_LENGTH: constant(),
    SHARED_SECRET_LENGTH: constant(),
    SIGNATURE_LENGTH: constant(),
    SUITE_NAMES: constant(),
    SecurityAssociation: opts((o) => new SecurityAssociation(o), { spi: 1, key: new Uint8Array(32), salt: new Uint8Array(4) }, 'spi'),
    SequenceExhaustedError: error,
    SequenceMarks: noArgs,
    TAG_LENGTH: constant(),
    UnknownSpiError: error,
    createAeadCipher: bad([() => createAeadCipher('rot13' as never, new Uint8Array(32), new Uint8Array(4)), 'suite'], [() => createAeadCipher('aes-256-gcm', new Uint8Array(3), new Uint8Array(4)), 'key']),
    derivePairKey: bad([() => (derivePairKey as (...args: unknown[]) => unknown)(new Uint8Array(8), 'aes-256-gcm', 1, 'a', 'b'), 'secret']),
    encodingLength: pure(CODEC),
    hkdfSha256: bad([() => hkdfSha256(7 as never, new Uint8Array(0), new Uint8Array(0), 32), 'ikm']),
    planKeySteps: pure('plans key-ring phases; an impossible plan throws KeyPlanError'),
    readSequenceLow: pure(CODEC),
    readSpi: pure(CODEC),
  },
  '@weft/ipam': {
    AddressInUseError: error,
    AddressOutOfRangeError: error,
    DEFAULT_SPACE: constant(),
    DOCKER_DEFAULT_POOLS: constant(),
    InvalidCidrError: error,
    InvalidCommandError: error,
    InvalidSnapshotError: error,
    Ipam: bad([() => new Ipam({ quarantine: { operations: -1, ms: 0 } }), 'quarantine.operations'], [() => new Ipam({}, { clock: 5 } as never), 'clock'], [() => new Ipam(null as never), '(options)']),
    'Ipam.restore': bad([() => Ipam.restore(new Ipam().snapshot(), { clock: 5 } as never), 'clock']),
    IpamError: error,
    IpamStateMachine: opts((o) => new IpamStateMachine(o), { quarantine: { operations: -1, ms: 0 } }, 'quarantine.operations'),
    NotAllocatedError: error,
    OverlapError: error,
    PoolExhaustedError: error,
    SNAPSHOT_FORMAT: constant(),
    UnknownPoolError: error,
    allocateSchema: constant('a zod schema of a command'),
    apply: pure('applies a command: refusals are results, bad commands InvalidCommandError'),
    broadcastAddress: pure(MATH),
    cidrSize: pure(MATH),
    commandSchema: constant('a zod schema of a command'),
    contains: pure(MATH),
    createState: opts((o) => createState(o), { quarantine: { operations: -1, ms: 0 } }, 'quarantine.operations'),
    decodeSnapshot: pure('snapshot codec: bad text throws InvalidSnapshotError'),
    encodeCommand: pure('command codec (JSON bytes)'),
    encodeSnapshot: pure('snapshot codec'),
    execute: pure('executes a command: bad commands throw InvalidCommandError'),
    firstAddress: pure(MATH),
    firstUsable: pure(MATH),
    formatCidr: pure(MATH),
    hostMask: pure(MATH),
    ipamOptionsSchema: constant('the zod schema of IpamOptions'),
    isValidCidr: pure('CIDR text: a predicate'),
    lastAddress: pure(MATH),
    lastUsable: pure(MATH),
    networkOf: pure(MATH),
    overlaps: pure(MATH),
    parseCidr: pure('CIDR text parser: bad text throws InvalidCidrError'),
    parseCommand: pure('command codec: bad commands throw InvalidCommandError'),
    releasePoolSchema: constant('a zod schema of a command'),
    releaseSchema: constant('a zod schema of a command'),
    requestPoolSchema: constant('a zod schema of a command'),
    reservesNetworkAddress: pure(MATH),
    resolveOptions: opts((o) => resolveOptions(o), { quarantine: { operations: -1, ms: 0 } }, 'quarantine.operations'),
    splitCidr: pure(MATH),
    subnetAt: pure(MATH),
    subnetCount: pure(MATH),
  },
  '@weft/raft': {
    CompactedError: error,
    ConfChangeDecodeError: error,
    ConfChangeRejectedError: error,
    DEFAULT_MAX_FRAME_BYTES: constant(),
    FRAME_HEADER_BYTES: constant(),
    FrameDecoder: bad([() => new FrameDecoder(-1), 'maxFrameBytes']),
    InvalidConfChangeError: error,
    InvalidKvRequestError: error,
    InvalidProposalError: error,
    KvCommandError: error,
    KvError: error,
    KvStore: opts((o) => new KvStore(o), { historyLimit: 0 }, 'historyLimit'),
    MESSAGE_CODEC_VERSION: constant(),
    MESSAGE_TYPES: constant(),
    MemoryLogStore: noArgs,
    MemorySnapshotStore: noArgs,
    MemoryStableStore: noArgs,
    MemoryStorage: noArgs,
    MemoryTransport: bad([() => new MemoryTransport('', new MemoryTransportNetwork()), 'id'], [() => new MemoryTransport('n1', {} as never), 'network']),
    MemoryTransportNetwork: opts((o) => new MemoryTransportNetwork(o), { serialize: 'yes' }, 'serialize'),
    MessageEncodeError: error,
    NodeClosedError: error,
    NodeFailedError: error,
    NotLeaderError: error,
    ProposalDroppedError: error,
    ProposalLostError: error,
    RaftCoreError: error,
    RaftError: error,
    RaftInvariantError: error,
    RaftKv: bad([() => new RaftKv(null as never, new KvStore()), 'node'], [() => new RaftKv(fakeNode as never, {} as never), 'store']),
    RaftNode: internal('built by RaftNode.create'),
    'RaftNode.create': opts((o) => RaftNode.create(o), { ...raftNodeOptions(), electionTimeoutMs: 0 }, 'electionTimeoutMs'),
    RaftNodeError: error,
    RaftUsageError: error,
    RawNode: opts((o) => new RawNode(o), { id: 'n1', storage: new MemoryStorage(), peers: ['n1'], random: Math.random, electionTick: 0 }, 'electionTick'),
    RequestTimeoutError: error,
    SnapshotOutOfDateError: error,
    StorageError: error,
    TcpTransport: internal('built by TcpTransport.listen'),
    'TcpTransport.listen': bad(
      [() => TcpTransport.listen({ id: 'n1', host: '127.0.0.1', port: 70_000 }), 'port'],
      [() => TcpTransport.listen({ id: 'n1', tls: { options: { requestCert: true, rejectUnauthorized: false }, identify: () => 'x' } } as never), 'tls.options.rejectUnauthorized'],
      [() => TcpTransport.listen({ id: 'n1', maxPendingHandshakes: 0 }), 'maxPendingHandshakes'],
      [() => TcpTransport.listen(null as never), '(options)'],
      [() => TcpTransport.listen(42 as never), '(options)'],
    ),
    TransportClosedError: error,
    TransportError: error,
    UnavailableError: error,
    decodeConfChange: pure(CODEC),
    decodeEntry: pure(CODEC),
    decodeHardState: pure(CODEC),
    decodeKvRequest: pure(CODEC),
    decodeMessage: pure(CODEC),
    decodeSnapshotMeta: pure(CODEC),
    encodeConfChange: pure(CODEC),
    encodeEntry: pure(CODEC),
    encodeHardState: pure(CODEC),
    encodeKvRequest: pure(CODEC),
    encodeMessage: pure(CODEC),
    encodeSnapshotMeta: pure(CODEC),
    memoryStores: pure('takes no arguments'),
    messageEncodingLength: pure(CODEC),
    writeFrameHeader: pure(CODEC),
  },
  '@weft/raft/level': {
    LevelStorage: internal('built by LevelStorage.open'),
    'LevelStorage.open': bad([() => LevelStorage.open(''), 'path'], [() => LevelStorage.open(neverCreated, { sync: 'yes' } as never), 'sync'], [() => LevelStorage.open(neverCreated, null as never), '(options)']),
  },
  '@weft/raft/testing': {
    InvalidHistoryError: error,
    Prng: bad([() => new Prng(Number.NaN), 'seed'], [() => new Prng('7' as never), 'seed']),
    RaftTestingError: error,
    checkLinearizability: opts((o) => checkLinearizability(kvModel, [], o), { budget: 0 }, 'budget'),
    kvModel: constant('a model (plain object of pure functions)'),
  },
  '@weft/core': {
    AddressConflictError: error,
    AttachRefusedError: error,
    Attachment: internal('built by WeftNode.attach and WeftNode.attachments'),
    ContentionError: error,
    CoreError: error,
    CorruptStateError: error,
    DEFAULT_ENCRYPTED_PORT: constant(),
    DEFAULT_UNDERLAY_MTU: constant(),
    DEFAULT_VXLAN_PORT: constant(),
    DataPlaneClosedError: error,
    ENCRYPTION_OVERHEAD: constant(),
    EndpointNotFoundError: error,
    KeyTransitionError: error,
    KeyLayout: bad([() => new (core('@weft/core', 'KeyLayout'))(42), 'root'], [() => new (core('@weft/core', 'KeyLayout'))('weft'), 'root']),
    MemoryStore: opts((o) => new (core('@weft/core', 'MemoryStore'))(o), { historyLimit: 0 }, 'historyLimit'),
    NameConflictError: error,
    NetworkInUseError: error,
    NetworkNotFoundError: error,
    OperationTimeoutError: error,
    RaftStore: internal('built by RaftStore.open'),
    'RaftStore.open': opts((o) => core('@weft/core', 'RaftStore').open(o), { id: 'm1', managers: [] }, 'managers'),
    RemoteStore: opts((o) => new (core('@weft/core', 'RemoteStore'))(o), { endpoints: [] }, 'endpoints'),
    RemoteStoreError: error,
    StoreServer: internal('built by StoreServer.listen'),
    UnknownNetworkError: error,
    UserspaceDataPlane: internal('built by UserspaceDataPlane.open'),
    'UserspaceDataPlane.open': opts((o) => core('@weft/core', 'UserspaceDataPlane').open(o), { nodeId: '', address: '127.0.0.1' }, 'nodeId'),
    'StoreServer.listen': opts((o) => core('@weft/core', 'StoreServer').listen(o), { store: {}, listen: { host: '127.0.0.1', port: 0 } }, 'store'),
    VXLAN_OVERHEAD_IPV4: constant(),
    VXLAN_OVERHEAD_IPV6: constant(),
    WeftNode: internal('built by WeftNode.start'),
    WeftNodeClosedError: error,
    ServiceNotFoundError: error,
    BackendRefusedError: error,
    NodeNotFoundError: error,
    NodeRemovalRefusedError: error,
    NodeRemovedError: error,
    PermissionDeniedError: error,
    ManagerRemovalRefusedError: error,
    RoleChangeRefusedError: error,
    workerStorePolicy: bad([() => core('@weft/core', 'workerStorePolicy')({ root: 'weft/' }), 'keys']),
    Services: internal('built by WeftNode (node.services); its create/addBackend options are validated per call'),
    dnsScopeOf: pure('builds a DNS scope from records'),
    DnsServer: opts((o) => new (core('@weft/core', 'DnsServer'))(o), { scopeOf: 'not a function' }, 'scopeOf'),
    DnsServerError: error,
    DnsBindError: error,
    DnsServerClosedError: error,
    DEFAULT_DNS_UPSTREAM_TIMEOUT_MS: constant(),
    DEFAULT_DNS_TTL_SECONDS: constant(),
    DEFAULT_DNS_MAX_TCP_CONNECTIONS: constant(),
    DEFAULT_DNS_TCP_IDLE_TIMEOUT_MS: constant(),
    serviceVipsOf: pure('lists VIPs from records'),
    'WeftNode.start': opts((o) => core('@weft/core', 'WeftNode').start(o), { id: '' }, 'id'),
    desiredState: pure('computes desired state from a cluster view'),
    memoryUnderlayFactory: bad([() => core('@weft/core', 'memoryUnderlayFactory')(null), 'network'], [() => core('@weft/core', 'memoryUnderlayFactory')({}), 'network']),
    overlayMtu: opts((o) => core('@weft/core', 'overlayMtu')(o), { underlayMtus: [1500], ipv6Underlay: 'no', encrypted: false }, 'ipv6Underlay'),
    planReconcile: pure('diffs two programmed states'),
    udpUnderlayFactory: opts((o) => core('@weft/core', 'udpUnderlayFactory')(o), { sourcePorts: -1 }, 'sourcePorts'),
    WeftClient: internal('built by WeftClient.connect'),
    'WeftClient.connect': opts((o) => core('@weft/core', 'WeftClient').connect(o), { socketPath: '' }, 'socketPath'),
    NodeUnreachableError: error,
    RemoteNodeError: error,
    LocalEndpointNotFoundError: error,
    NotAManagerError: error,
    DataDirError: error,
    ControlSocketInUseError: error,
    UnknownMethodError: error,
  },
  '@weft/core/daemon': {
    NodeDaemon: internal('built by NodeDaemon.start'),
    'NodeDaemon.start': bad(
      [() => core('@weft/core/daemon', 'NodeDaemon').start({ dataDir: '', start: { kind: 'init' } }), 'dataDir'],
      [() => core('@weft/core/daemon', 'NodeDaemon').start({ dataDir: neverCreated, start: { kind: 'join', token: 'x', manager: 'nowhere' } }), 'start.manager'],
      [() => core('@weft/core/daemon', 'NodeDaemon').start({ dataDir: neverCreated, start: { kind: 'init' }, vxlanPort: 70_000 }), 'vxlanPort'],
      [() => core('@weft/core/daemon', 'NodeDaemon').start(null as never), '(options)'],
      [() => core('@weft/core/daemon', 'NodeDaemon').start(42 as never), '(options)'],
    ),
    ControlServer: internal('built by ControlServer.listen'),
    'ControlServer.listen': opts((o) => core('@weft/core/daemon', 'ControlServer').listen(o), { path: '', handle: noop }, 'path'),
    jsonLogger: bad([() => core('@weft/core/daemon', 'jsonLogger')('loud'), 'level'], [() => core('@weft/core/daemon', 'jsonLogger')('info', 42), 'write']),
    silentLogger: constant('a logger that drops everything'),
    LOG_LEVELS: constant(),
    CONTROL_PROTOCOL_VERSION: constant(),
    NodeUnreachableError: error,
    RemoteNodeError: error,
    LocalEndpointNotFoundError: error,
    NotAManagerError: error,
    DataDirError: error,
    ControlSocketInUseError: error,
    UnknownMethodError: error,
  },
  '@weft/linux': {
    CAP_NET_ADMIN: constant('a capability bit number'),
    CAP_SYS_ADMIN: constant('a capability bit number'),
    CommandRunner: opts((o) => new CommandRunner(o), { timeoutMs: 5 }, 'timeoutMs'),
    KernelDataPlane: internal('built by KernelDataPlane.open'),
    'KernelDataPlane.open': opts((o) => KernelDataPlane.open(o), { nodeId: '', underlayAddress: '198.18.0.1' }, 'nodeId'),
    LinuxCommandError: error,
    LinuxDataPlaneError: error,
    LinuxStateError: error,
    MissingCapabilityError: error,
    UnsupportedFeatureError: error,
    bridgePortName: pure('a name derived from an id'),
    defaultNamePrefix: pure('a name derived from an id'),
    deriveOverlayMtu: pure(MATH),
    hasCapability: pure(MATH),
    networkNamespaceName: pure('a name derived from ids'),
    parseSnapshot: pure('parses what iproute2 printed (a read of the kernel, not options)'),
    planNetwork: pure('diffs desired with read-back kernel state'),
    readEffectiveCapabilities: pure('parses /proc/self/status text'),
  },
  '@weft/core/etcd': {
    EtcdRequestRefusedError: error,
    EtcdRevisionRangeError: error,
    EtcdStore: opts((o) => new (core('@weft/core/etcd', 'EtcdStore'))(o), { endpoints: [] }, 'endpoints'),
    'EtcdStore.connect': opts((o) => core('@weft/core/etcd', 'EtcdStore').connect(o), { endpoints: [] }, 'endpoints'),
  },
  '@weft/core/pki': {
    CA_COMMON_NAME: constant(),
    CERT_BACKDATE_MS: constant(),
    DEFAULT_CA_LIFETIME_MS: constant(),
    DEFAULT_NODE_CERT_LIFETIME_MS: constant(),
    JOIN_TOKEN_DIGEST_LENGTH: constant(),
    JOIN_TOKEN_PREFIX: constant(),
    JOIN_TOKEN_SECRET_LENGTH: constant(),
    NODE_ROLES: constant(),
    ClusterCa: internal('built by ClusterCa.create / ClusterCa.fromPem'),
    'ClusterCa.create': opts((o) => (core('@weft/core/pki', 'ClusterCa') as unknown as { create: (o: unknown) => unknown }).create(o), { clusterId: '' }, 'clusterId'),
    'ClusterCa.fromPem': bad([() => (core('@weft/core/pki', 'ClusterCa') as unknown as { fromPem: (a: unknown, b: unknown) => unknown }).fromPem(42, 'x'), 'certificatePem']),
    JoinTokens: internal('built by JoinTokens.generate'),
    'JoinTokens.generate': bad([() => (core('@weft/core/pki', 'JoinTokens') as unknown as { generate: (a: unknown, b: unknown) => unknown }).generate({}, 'manager'), 'ca']),
    createCsr: bad([() => core('@weft/core/pki', 'createCsr')('', {}), 'nodeId']),
    verifyNodeCertificate: bad([() => core('@weft/core/pki', 'verifyNodeCertificate')('x', 'y', { now: 'soon' }), 'now']),
    tlsOptionsFor: opts((o) => core('@weft/core/pki', 'tlsOptionsFor')(o), { caPem: 42 }, 'caPem'),
    peerIdentity: bad([() => core('@weft/core/pki', 'peerIdentity')({}), 'socket']),
    transportTlsFor: bad([() => core('@weft/core/pki', 'transportTlsFor')({ caPem: 'x', certPem: 'y', keyPem: 'z' }, { role: 'admin' }), 'role']),
    controlTlsFor: bad([() => core('@weft/core/pki', 'controlTlsFor')({ caPem: 'x', certPem: 'y', keyPem: 'z' }, { role: 'manager' }), 'role'], [() => core('@weft/core/pki', 'controlTlsFor')({ caPem: 'x', certPem: 'y', keyPem: 'z' }, { now: 5 }), 'now']),
    verifyJoinToken: bad([() => core('@weft/core/pki', 'verifyJoinToken')('WEFT-1-x-y', [], 42), 'caDigest']),
    initClusterPki: bad([() => core('@weft/core/pki', 'initClusterPki')({}, { clusterId: 'c1', nodeId: 'n1' }), 'store'], [() => core('@weft/core/pki', 'initClusterPki')(new (core('@weft/core', 'MemoryStore'))(), { clusterId: '', nodeId: 'n1' }), 'clusterId']),
    loadClusterPki: bad([() => core('@weft/core/pki', 'loadClusterPki')(new (core('@weft/core', 'MemoryStore'))(), { keyPrefix: 'no-slash' }), 'keyPrefix']),
    joinTokenOf: bad([() => core('@weft/core/pki', 'joinTokenOf')(new (core('@weft/core', 'MemoryStore'))(), 'admin'), 'role']),
    rotateJoinToken: bad([() => core('@weft/core/pki', 'rotateJoinToken')(new (core('@weft/core', 'MemoryStore'))(), 'admin'), 'role']),
    JoinServer: internal('built by JoinServer.listen'),
    'JoinServer.listen': opts((o) => core('@weft/core/pki', 'JoinServer').listen(o), { listen: { host: '127.0.0.1', port: 0 }, store: new (core('@weft/core', 'MemoryStore'))(), credentials: 'pem' }, 'credentials'),
    joinCluster: opts((o) => core('@weft/core/pki', 'joinCluster')(o), { token: 'WEFT-1-x-y', manager: { host: '127.0.0.1', port: 0 } }, 'manager.port'),
    renewCertificate: bad([() => core('@weft/core/pki', 'renewCertificate')({ managers: [], credentials: { caPem: 'x', certPem: 'y', keyPem: 'z' } }), 'managers'], [() => core('@weft/core/pki', 'renewCertificate')({ credentials: { caPem: 'x', certPem: 'y', keyPem: 'z' } }), 'managers'], [() => core('@weft/core/pki', 'renewCertificate')(null), '(options)']),
    DenyList: internal('built by DenyList.open'),
    'DenyList.open': opts((o) => (core('@weft/core/pki', 'DenyList') as unknown as { open: (o: unknown) => unknown }).open(o), { store: new (core('@weft/core', 'MemoryStore'))(), onChange: 42 }, 'onChange'),
    pruneDeniedSerials: bad([() => core('@weft/core/pki', 'pruneDeniedSerials')(new (core('@weft/core', 'MemoryStore'))(), { now: 5 }), 'now']),
    CertificateRenewer: opts((o) => new (core('@weft/core/pki', 'CertificateRenewer'))(o), { credentials: { caPem: 'x', certPem: 'y', keyPem: 'z' }, renew: noop, onRenewed: noop, renewWhenRemaining: 2 }, 'renewWhenRemaining'),
    'CertificateRenewer.start': opts((o) => (core('@weft/core/pki', 'CertificateRenewer') as unknown as { start: (o: unknown) => unknown }).start(o), { credentials: { caPem: 'x', certPem: 'y', keyPem: 'z' }, renew: noop, onRenewed: noop, maxAttempts: 0 }, 'maxAttempts'),
    generateNodeKey: pure('takes no arguments'),
    exportNodeKeyPem: pure('exports a key pair it is given (a non-key throws MalformedKeyError)'),
    importNodeKeyPem: pure('PEM text parser: bad text throws MalformedKeyError'),
    parseNodeCertificate: pure('certificate parser: bad input throws MalformedCertificateError'),
    caDigestOf: pure('certificate digest: bad input throws MalformedCertificateError'),
    parseJoinToken: pure('token text parser: bad text throws InvalidJoinTokenError'),
    verifyJoinTokenCa: pure('compares a token with a CA certificate: bad input throws InvalidJoinTokenError / MalformedCertificateError'),
    nodeUri: pure('formats two ids'),
    MalformedCertificateError: error,
    CertificateNotTrustedError: error,
    CertificateExpiredError: error,
    CertificateRevokedError: error,
    CsrRejectedError: error,
    MalformedKeyError: error,
    InvalidJoinTokenError: error,
    JoinTokenCaMismatchError: error,
    JoinTokenRejectedError: error,
    JoinRoleMismatchError: error,
    NodeIdTakenError: error,
    ClusterPkiMissingError: error,
    JoinFailedError: error,
    UnexpectedPeerError: error,
  },
  '@weft/core/testing': {
    LocalCluster: internal('built by LocalCluster.start'),
    'LocalCluster.start': bad(
      [() => core('@weft/core/testing', 'LocalCluster').start({ managers: 0 }), 'managers'],
      [() => core('@weft/core/testing', 'LocalCluster').start({ tls: true, control: 'memory' }), 'tls'],
      [() => core('@weft/core/testing', 'LocalCluster').start(null), '(options)'],
      [() => core('@weft/core/testing', 'LocalCluster').start(42), '(options)'],
    ),
    PartitionedUnderlay: bad([() => new (core('@weft/core/testing', 'PartitionedUnderlay'))(null, () => false), 'inner'], [() => new (core('@weft/core/testing', 'PartitionedUnderlay'))(new MemoryNetwork().attach(), null), 'cut']),
    storeConformanceCases: pure('takes no arguments'),
  },
};

// ---------------------------------------------------------------------------
// Discovery

/** Every public entry: package.json `exports` subpaths, plus tsconfig `@weft/<pkg>/<sub>` paths whose source exists. */
function discoverEntries(): string[] {
  const entries = new Set(packageEntries().map((e) => e.entry));
  const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } };
  for (const [spec, [target]] of Object.entries(tsconfig.compilerOptions.paths)) {
    if (!spec.includes('*') && target !== undefined && existsSync(join(root, target))) entries.add(spec);
  }
  return [...entries].sort();
}

const isClass = (v: unknown): v is Ctor => typeof v === 'function' && /^class\b/.test(Function.prototype.toString.call(v));

/** The names that need a row: runtime exports, and `Class.method` for each static method of an exported class. */
function exportedNames(mod: Record<string, unknown>): string[] {
  const names: string[] = [];
  for (const name of Object.keys(mod)) {
    if (name === 'default' || name === '__esModule') continue;
    const value = mod[name];
    names.push(name);
    if (isClass(value) && !(value.prototype instanceof Error)) {
      for (const key of Object.getOwnPropertyNames(value)) {
        if (['length', 'name', 'prototype'].includes(key)) continue;
        if (typeof (value as unknown as Record<string, unknown>)[key] === 'function') names.push(`${name}.${key}`);
      }
    }
  }
  return names.sort();
}

function lookup(mod: Record<string, unknown>, name: string): unknown {
  const [head, tail] = name.split('.') as [string, string | undefined];
  const value = mod[head];
  return tail === undefined ? value : (value as Record<string, unknown>)[tail];
}

/** `@weft/interface`'s own value, re-exported unchanged: covered by the interface row. */
const isInterfaceReexport = (entry: string, name: string, value: unknown): boolean =>
  entry !== '@weft/interface' && !name.includes('.') && name in iface && (iface as Record<string, unknown>)[name] === value;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

/** True when the class's constructor is `private`/`protected` or documented `@internal` in its package's source. */
function hasInternalConstructor(entry: string, className: string): boolean {
  const pkg = entry.split('/')[1] as string;
  const declaration = new RegExp(`\\bclass ${className}\\b`);
  for (const file of sourceFiles(join(root, 'packages', pkg, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const at = text.search(declaration);
    if (at < 0) continue;
    const ctor = text.indexOf('constructor(', at);
    if (ctor < 0) return false;
    const before = text.slice(at, ctor);
    if (/(private|protected)\s+$/.test(before)) return true;
    const doc = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*$/.exec(before); // the doc comment right before the constructor
    return doc !== null && (doc[1] ?? '').includes('@internal');
  }
  return false;
}

// ---------------------------------------------------------------------------
// The rule

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What a probe threw or rejected with; `undefined` with `ok` when it succeeded (the result is closed). */
async function attempt(call: () => unknown): Promise<{ threw: boolean; error?: unknown }> {
  let result: unknown;
  try {
    result = call();
    if (result instanceof Promise) result = await withTimeout(result, 5_000);
  } catch (err) {
    return { threw: true, error: err };
  }
  const closable = result as { close?: () => unknown } | null;
  if (closable !== null && typeof closable === 'object' && typeof closable.close === 'function') await Promise.resolve(closable.close()).catch(noop);
  return { threw: false };
}

/** Why `err` breaks the rule for `field`; empty when it keeps it. */
function violations(err: unknown, field: string): string[] {
  const out: string[] = [];
  const e = err as { name?: unknown; field?: unknown; message?: unknown; issues?: unknown } | null;
  if (err instanceof ZodError || e?.name === 'ZodError' || Array.isArray(e?.issues)) return ['a ZodError was thrown'];
  if (!isWeftError(err, 'ERR_INVALID_OPTIONS')) {
    return [`not an InvalidOptionsError: ${e?.name as string} ${JSON.stringify(String(e?.message ?? err).slice(0, 120))}`];
  }
  if (e?.name !== 'InvalidOptionsError') out.push(`name is ${String(e?.name)}`);
  if (e?.field !== field) out.push(`field is ${JSON.stringify(e?.field)}, expected ${JSON.stringify(field)}`);
  const message = typeof e?.message === 'string' ? e.message : '';
  if (/[\r\n]/.test(message)) out.push(`message is not one line: ${JSON.stringify(message)}`);
  if (!message.includes(field)) out.push(`message does not name ${JSON.stringify(field)}: ${JSON.stringify(message)}`);
  return out;
}

async function probeFailures(probes: readonly Probe[]): Promise<string[]> {
  const failures: string[] = [];
  for (const [i, [call, field]] of probes.entries()) {
    const { threw, error: err } = await attempt(call);
    const problems = threw ? violations(err, field) : ['did not throw'];
    for (const p of problems) failures.push(`probe ${i} (${field}): ${p}`);
  }
  return failures;
}

/** Checks what an exemption claims about the value. */
function exemptionProblem(entry: string, name: string, value: unknown, why: ExemptKind): string | undefined {
  switch (why) {
    case 'error':
      return typeof value === 'function' && (value === iface.WeftError || value.prototype instanceof iface.WeftError) ? undefined : 'is not a WeftError class';
    case 'constant':
      return typeof value !== 'function' ? undefined : 'is a function, not a constant';
    case 'pure':
      return typeof value === 'function' && !isClass(value) ? undefined : 'is not a plain function';
    case 'no-args':
      if (!isClass(value) || value.length !== 0) return 'is not a class whose constructor takes no arguments';
      try {
        new value();
        return undefined;
      } catch (err) {
        return `new ${name}() throws: ${String(err)}`;
      }
    case 'internal':
      return isClass(value) && hasInternalConstructor(entry, name) ? undefined : 'has no private or @internal constructor in its source';
  }
}

// ---------------------------------------------------------------------------

const entries = discoverEntries();
const loaded = new Map<string, Record<string, unknown>>();
function load(entry: string): Record<string, unknown> {
  let mod = loaded.get(entry);
  if (!mod) loaded.set(entry, (mod = require(entry) as Record<string, unknown>));
  return mod;
}

const rows = Object.entries(table).flatMap(([entry, byName]) => Object.entries(byName).map(([name, row]) => ({ entry, name, row })));

describe('every runtime export of every entry has a row', () => {
  it('finds the entries of every package', () => {
    for (const e of ['@weft/interface', '@weft/vxlan', '@weft/crypto', '@weft/ipam', '@weft/raft', '@weft/raft/level', '@weft/raft/testing', '@weft/core']) {
      expect(entries).toContain(e);
    }
  });

  it.each(entries)('%s', (entry) => {
    const mod = load(entry);
    const byName = table[entry] ?? {};
    const missing: string[] = [];
    const stale: string[] = [];
    const wrong: string[] = [];
    const names = exportedNames(mod);
    for (const name of names) {
      const value = lookup(mod, name);
      if (isInterfaceReexport(entry, name, value)) {
        if (byName[name]) stale.push(`${name} (a re-export of @weft/interface's own: the interface row covers it)`);
        continue;
      }
      const row = byName[name];
      if (!row) missing.push(name);
      else if (row.kind === 'exempt') {
        const problem = exemptionProblem(entry, name, value, row.why);
        if (problem) wrong.push(`${name}: exempt as ${row.why} but ${problem}`);
      }
    }
    for (const name of Object.keys(byName)) if (!names.includes(name)) stale.push(`${name} (no longer exported)`);
    expect({ missing, stale, wrong }).toEqual({ missing: [], stale: [], wrong: [] });
  });

  it('has no rows for entries that do not exist', () => {
    expect(Object.keys(table).filter((e) => !entries.includes(e))).toEqual([]);
  });
});

describe('bad options: InvalidOptionsError naming the field, one line, no ZodError', () => {
  const cases = rows.filter((r) => r.row.kind === 'case' && entries.includes(r.entry));
  it.each(cases.map((r) => [`${r.entry} ${r.name}`, r.row] as const))('%s', async (_, row) => {
    expect(await probeFailures((row as { probes: readonly Probe[] }).probes)).toEqual([]);
  });

  it('created nothing on disk for the file and directory probes', () => {
    expect(existsSync(neverCreated)).toBe(false);
  });
});

describe('the checks themselves', () => {
  it('reject a ZodError, a multi-line message, a wrong field and a plain Error', () => {
    const zod = z.object({ a: z.number() }).safeParse({ a: 'x' }).error;
    expect(violations(zod, 'a')).toEqual(['a ZodError was thrown']);
    expect(violations(new iface.InvalidOptionsError('a', 'X: option "a"\nis bad'), 'a')[0]).toMatch(/not one line/);
    expect(violations(new iface.InvalidOptionsError('b', 'X: option "b" is bad'), 'a')[0]).toMatch(/field is "b"/);
    expect(violations(new TypeError('x'), 'a')[0]).toMatch(/not an InvalidOptionsError/);
    expect(violations(new iface.InvalidOptionsError('a', 'X: option "a" is bad', { cause: zod }), 'a')).toEqual([]);
  });

  it('recognise an InvalidOptionsError from another copy of @weft/interface by its brand', () => {
    const foreign = Object.assign(new Error('X: option "a" is bad'), { name: 'InvalidOptionsError', code: 'ERR_INVALID_OPTIONS', field: 'a', [Symbol.for('@weft/interface:error')]: true });
    expect(violations(foreign, 'a')).toEqual([]);
  });

  it('find internal constructors in the source', () => {
    expect(hasInternalConstructor('@weft/vxlan', 'Segment')).toBe(true);
    expect(hasInternalConstructor('@weft/raft', 'RaftNode')).toBe(true);
    expect(hasInternalConstructor('@weft/vxlan', 'Vtep')).toBe(false);
  });
});
