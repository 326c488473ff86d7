/**
 * The error model: every class @weft/vxlan exports extends VxlanError (and so
 * WeftError) with a fixed name and a stable code, or is the shared class of
 * @weft/interface itself (re-exported, never a copy).
 */
import * as shared from '@weft/interface';
import { isWeftError, WeftError } from '@weft/interface';
import * as vxlan from '../src/index';

const own: [string, Error, string][] = [
  ['VxlanError', new vxlan.VxlanError('x'), 'ERR_VXLAN'],
  ['InvalidFieldError', new vxlan.InvalidFieldError('udp', 'srcPort', 'must be an integer in 0..65535, got 65536'), 'ERR_INVALID_FIELD'],
  ['VtepClosedError', new vxlan.VtepClosedError('segment 42'), 'ERR_VTEP_CLOSED'],
  ['PcapClosedError', new vxlan.PcapClosedError('pcap writer'), 'ERR_PCAP_CLOSED'],
  ['EndpointError', new vxlan.EndpointError('x'), 'ERR_ENDPOINT'],
  ['HostUnreachableError', new vxlan.HostUnreachableError('10.0.0.2'), 'ERR_HOST_UNREACHABLE'],
  ['PingTimeoutError', new vxlan.PingTimeoutError('10.0.0.2', 1000), 'ERR_PING_TIMEOUT'],
  ['EndpointClosedError', new vxlan.EndpointClosedError('endpoint 10.0.0.1'), 'ERR_ENDPOINT_CLOSED'],
  ['PortInUseError', new vxlan.PortInUseError(5000), 'ERR_PORT_IN_USE'],
  ['MessageTooLongError', new vxlan.MessageTooLongError(70000), 'ERR_MESSAGE_TOO_LONG'],
  ['NameResolutionError', new vxlan.NameResolutionError('web', 'x'), 'ERR_NAME_RESOLUTION'],
  ['NoNameserverError', new vxlan.NoNameserverError('web'), 'ERR_NO_NAMESERVER'],
  ['NameNotFoundError', new vxlan.NameNotFoundError('web', 3, 'NXDOMAIN'), 'ERR_NAME_NOT_FOUND'],
  ['DnsTimeoutError', new vxlan.DnsTimeoutError('web', '10.0.0.53', 2, 1000), 'ERR_DNS_TIMEOUT'],
  ['DnsServerFailureError', new vxlan.DnsServerFailureError('web', '10.0.0.53', 2, 'SERVFAIL'), 'ERR_DNS_SERVER_FAILURE'],
  ['DnsTruncatedError', new vxlan.DnsTruncatedError('web', '10.0.0.53'), 'ERR_DNS_TRUNCATED'],
  ['TooManyLookupsError', new vxlan.TooManyLookupsError('web', 64), 'ERR_TOO_MANY_LOOKUPS'],
];

const reexported = ['InvalidOptionsError', 'MalformedPacketError', 'InvalidAddressError', 'UnderlayClosedError'] as const;

describe('vxlan errors', () => {
  it.each(own)('%s extends VxlanError and WeftError, with a fixed name and a stable code', (name, err, code) => {
    expect(err).toBeInstanceOf(vxlan.VxlanError);
    expect(err).toBeInstanceOf(WeftError);
    expect(err.name).toBe(name);
    expect((err as WeftError).code).toBe(code);
    expect(isWeftError(err, code)).toBe(true);
    expect(isWeftError(err, name)).toBe(true);
  });

  it.each(reexported)('%s is the @weft/interface class itself, not a copy', (name) => {
    expect(vxlan[name]).toBe(shared[name]);
  });

  it('every error class the package exports is listed above', () => {
    const exported = Object.entries(vxlan)
      .filter(([, v]) => typeof v === 'function' && (v as { prototype?: unknown }).prototype instanceof Error)
      .map(([k]) => k)
      .sort();
    expect(exported).toEqual([...own.map(([n]) => n), ...reexported].sort());
  });

  it('subclass codes are distinct', () => {
    const codes = own.map(([, e]) => (e as WeftError).code);
    expect(new Set(codes).size).toBe(codes.length);
  });
});
