import { canonicalIp, formatMac, isValidIpv4, isValidMac, parseMac, parseOptions, type LocalEndpointSpec, type NetworkSpec, type RemoteEndpointSpec } from '@weft/interface';
import { z } from 'zod';

const id = z.string().min(1).max(255);
const ipv4 = z.string().refine(isValidIpv4, 'must be an IPv4 address');
const mac = z.string().refine(isValidMac, 'must be a MAC address aa:bb:cc:dd:ee:ff');
const port = z.number().int().min(1).max(65535);

const networkSpecSchema = z
  .object({
    id,
    name: z.string().max(255),
    vni: z.number().int().min(1).max(0xffffff),
    mtu: z.number().int().min(68).max(65535),
    subnet: z.string().min(1),
    gateway: ipv4.optional(),
    internal: z.boolean(),
    encryption: z.unknown().optional(),
  })
  .passthrough();

const localSpecSchema = z
  .object({
    id,
    name: z.string().max(255),
    ip: ipv4,
    prefixLength: z.number().int().min(0).max(32),
    mac,
    sandbox: z.string().regex(/^\/[^\0\n ]*$/, 'must be the absolute path of a network namespace (e.g. /var/run/netns/NAME or /proc/PID/ns/net)'),
    interfaceName: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be an interface name (1–15 of A-Z a-z 0-9 _ . -)').optional(),
    resolvConf: z.string().regex(/^\/[^\0\n]*[^/\0\n]$/, 'must be the absolute path of a file (e.g. /etc/netns/NAME/resolv.conf)').optional(),
  })
  .passthrough();

const remoteSpecSchema = z
  .object({
    id,
    ip: ipv4,
    mac,
    peer: z
      .object({ id, address: ipv4, vxlanPort: port, encryptedPort: port, epoch: z.string() })
      .passthrough(),
  })
  .passthrough();

const canonMac = (m: string): string => formatMac(parseMac(m));

/** @internal Validates a network spec (IPv4 only on the kernel plane). */
export function parseNetworkSpec(spec: NetworkSpec, what: string): NetworkSpec {
  parseOptions(networkSpecSchema, spec, what);
  return spec;
}

/** @internal Validates a local endpoint spec and returns it with canonical IP/MAC and the interface name filled in (`eth0`). */
export function parseLocalSpec(spec: LocalEndpointSpec, what: string): LocalEndpointSpec & { sandbox: string; interfaceName: string } {
  const s = parseOptions(localSpecSchema, spec, what);
  return { ...spec, ip: canonicalIp(s.ip), mac: canonMac(s.mac), sandbox: s.sandbox, interfaceName: s.interfaceName ?? 'eth0' };
}

/** @internal Validates a remote endpoint spec and returns it with canonical IP/MAC. */
export function parseRemoteSpec(spec: RemoteEndpointSpec, what: string): RemoteEndpointSpec {
  parseOptions(remoteSpecSchema, spec, what);
  return { ...spec, ip: canonicalIp(spec.ip), mac: canonMac(spec.mac), peer: { ...spec.peer, address: canonicalIp(spec.peer.address) } };
}

/** @internal Validates an id argument. */
export function parseId(value: string, field: string, what: string): string {
  parseOptions(z.object({ [field]: id }), { [field]: value }, what);
  return value;
}
