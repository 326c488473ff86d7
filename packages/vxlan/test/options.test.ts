/**
 * Every public constructor and factory of @weft/vxlan validates its options
 * through parseOptions: bad input is an InvalidOptionsError naming the field,
 * with a one-line message, never a ZodError or a TypeError from deep inside.
 */
import { InvalidOptionsError, ManualClock } from '@weft/interface';
import * as vxlan from '../src/index';
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
} from '../src/index';

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

function expectBadOption(err: unknown, what: string, field: string): void {
  expect(err).toBeInstanceOf(InvalidOptionsError);
  const e = err as InvalidOptionsError;
  expect(e.field).toBe(field);
  expect(e.code).toBe('ERR_INVALID_OPTIONS');
  expect(e.message.startsWith(`${what}: option "${field}" `)).toBe(true);
  expect(e.message).not.toMatch(/\n/);
}

const underlay = (): vxlan.MemoryUnderlay => new MemoryNetwork().attach();
const settings = { clock: new ManualClock(), arpTimeoutMs: 500, arpRetries: 3, neighbourTtlMs: 60_000, maxPendingPerHost: 8 };
const noop = (): void => undefined;

/** [what, call with a bad option, the field it must name]. */
const cases: [string, () => unknown, string][] = [
  ['Vtep', () => new Vtep({ underlay: underlay(), mtu: 20 }), 'mtu'],
  ['Vtep', () => new Vtep(undefined as never), 'underlay'],
  ['Vtep', () => new Vtep({ underlay: underlay(), clock: Date.now as never }), 'clock'],
  ['Vtep.addSegment(1)', () => new Vtep({ underlay: underlay() }).addSegment(1, { agingMs: 0 }), 'agingMs'],
  ['Vtep.addSegment', () => new Vtep({ underlay: underlay() }).addSegment(-1), 'vni'],
  ['Endpoint', () => new Endpoint({ mac: '02:00:00:00:00', ip: '10.0.0.1' }), 'mac'],
  ['Endpoint', () => new Endpoint(null as never), '(options)'],
  ['Endpoint.bind', () => new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.1' }).bind(70_000), 'port'],
  ['Endpoint.ping', () => new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.1' }).ping('10.0.0.2', { size: 1e6 }), 'size'],
  ['Endpoint', () => new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.1', nameserver: 'dns' }), 'nameserver'],
  ['Endpoint.setNameserver', () => new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.1' }).setNameserver('10.0.0'), 'nameserver'],
  ['Endpoint.resolve', () => new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.1' }).resolve('web', { attempts: 11 }), 'attempts'],
  ['Endpoint.resolve', () => new Endpoint({ mac: '02:00:00:00:00:01', ip: '10.0.0.1' }).resolve('-bad name-'), 'name'],
  ['MemoryNetwork', () => new MemoryNetwork({ loss: 2 }), 'loss'],
  ['MemoryNetwork', () => new MemoryNetwork({ random: 0.5 as never }), 'random'],
  ['MemoryNetwork.attach', () => new MemoryNetwork().attach({ host: 'vtep-a' }), 'host'],
  ['MemoryNetwork.setConditions', () => new MemoryNetwork().setConditions({ jitterMs: -1 }), 'jitterMs'],
  ['PcapWriter', () => new PcapWriter({ sink: { write: noop, close: noop }, snaplen: 0 }), 'snaplen'],
  ['PcapWriter.toMemory', () => PcapWriter.toMemory({ clock: 5 as never }), 'clock'],
  ['FilePcapSink', () => PcapWriter.toFile(''), 'path'],
  ['FilePcapSink', () => new FilePcapSink(undefined as never), 'path'],
  ['Fdb', () => new Fdb(0, 10), 'agingMs'],
  ['Fdb', () => new Fdb(1000, -1), 'maxLearned'],
  ['FrameSlab', () => new FrameSlab(0), 'slabBytes'],
  ['ArpResolver', () => new ArpResolver({ ...settings, arpTimeoutMs: -5 }, noop, noop), 'arpTimeoutMs'],
  ['ArpResolver', () => new ArpResolver(settings, 'send' as never, noop), 'sendRequest'],
  ['captureOuter', () => captureOuter({} as never, PcapWriter.toMemory().writer), 'vtep'],
  ['captureOuter', () => captureOuter(new Vtep({ underlay: underlay() }), {} as never), 'writer'],
];

describe('bad options', () => {
  it.each(cases)('%s: names %#', (what, call, field) => {
    expectBadOption(caught(call), what, field);
  });

  it('UdpUnderlay.bind rejects with InvalidOptionsError naming the field, before any socket is opened', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r.toUpperCase() === 'UDPWRAP').length;
    for (const [options, field] of [
      [{ host: 'localhost' }, 'host'],
      [{ port: -1 }, 'port'],
      [{ sourcePorts: 65 }, 'sourcePorts'],
      [{ recvBufferSize: 0 }, 'recvBufferSize'],
    ] as const) {
      const err = await UdpUnderlay.bind(options as never).then(
        () => undefined,
        (e: unknown) => e,
      );
      expectBadOption(err, 'UdpUnderlay', field);
    }
    expect(process.getActiveResourcesInfo().filter((r) => r.toUpperCase() === 'UDPWRAP').length).toBe(before);
  });

  it('IP literals may carry an IPv6 zone, as node:dgram reports link-local peers; host names never pass', () => {
    const seg = new Vtep({ underlay: underlay() }).addSegment(1);
    seg.addFloodTarget({ host: 'fe80::1%eth0', port: 4789 });
    expect(seg.floodList).toEqual([{ host: 'fe80::1%eth0', port: 4789 }]);
    for (const host of ['fe80::1%', '%eth0', '10.0.0.1%eth0', 'example.com']) {
      expectBadOption(caught(() => seg.addFloodTarget({ host, port: 4789 })), 'segment 1: flood target', 'host');
    }
  });
});

/** Exported classes whose constructors are not public API: instances come from the factory named. */
const internal: Record<string, string> = {
  Segment: 'Vtep.addSegment',
  MemoryUnderlay: 'MemoryNetwork.attach',
  EndpointUdpSocket: 'Endpoint.bind',
};
/** Exported classes whose constructors take no options. */
const optionless = ['NeighbourTable', 'MemoryPcapSink'];

it('every exported class has a bad-options case above, is optionless, or is built by a factory', () => {
  const covered = new Set([...cases.map(([what]) => what.split(/[.(]/)[0]), 'UdpUnderlay', ...Object.keys(internal), ...optionless]);
  const classes = Object.entries(vxlan)
    .filter(([k, v]) => typeof v === 'function' && /^[A-Z]/.test(k) && !((v as { prototype?: unknown }).prototype instanceof Error))
    .map(([k]) => k);
  expect(classes.filter((k) => !covered.has(k))).toEqual([]);
});
