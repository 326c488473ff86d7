import {
  canonicalIp,
  formatMac,
  isValidIp,
  isValidMac,
  parseMac,
  parseOptions,
  type LocalEndpointSpec,
  type NetworkEncryption,
  type NetworkSpec,
  type OptionsSchema,
  type RemoteEndpointSpec,
  type ServiceVip,
} from '@weft/interface';
import { SUITE_NAMES, type SuiteName } from '@weft/crypto';
import { z } from 'zod';
import { epochSchema } from './options';

// The DataPlane seam is public (core calls it, so may anyone): every argument
// goes through one of these schemas once, and what is kept is a canonical
// copy (lowercase MAC, canonical IP text, secrets copied).

const id = z.string().min(1).max(255);
const ipText = z.string().refine(isValidIp, 'must be an IP literal');
const macText = z.string().refine(isValidMac, 'must look like "02:42:0a:00:01:02"');
const udpPort = z.number().int().min(1).max(65535);

const keySchema = z.object({
  generation: z.number().int().min(0).max(0xffffffff),
  secret: z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length >= 32, 'must be a Uint8Array of at least 32 bytes'),
});

const encryptionShape = z
  .object({
    suite: z.enum(SUITE_NAMES as unknown as [SuiteName, ...SuiteName[]]),
    keys: z.array(keySchema).min(1),
    sendGeneration: z.number().int().min(0).max(0xffffffff),
  })
  .refine((e) => new Set(e.keys.map((k) => k.generation)).size === e.keys.length, { path: ['keys'], message: 'must not repeat a generation' })
  .refine((e) => e.keys.some((k) => k.generation === e.sendGeneration), { path: ['sendGeneration'], message: 'must be one of the generations in keys' });

const networkSchema = z.object({
  id,
  name: z.string().max(255),
  vni: z.number().int().min(1).max(0xffffff),
  mtu: z.number().int().min(68).max(65535),
  subnet: z.string().min(1),
  gateway: ipText.optional(),
  internal: z.boolean(),
  encryption: encryptionShape.optional(),
});

const localSchema = z.object({
  id,
  name: z.string().max(255),
  ip: ipText,
  prefixLength: z.number().int().min(0).max(128),
  mac: macText,
  sandbox: z.string().optional(),
  interfaceName: z.string().optional(),
  /** Kernel plane only (an absolute file path); kept in the spec, ignored here. */
  resolvConf: z.string().regex(/^\/[^\0\n]*$/, 'must be an absolute file path').optional(),
});

const peerSchema = z.object({ id, address: ipText, vxlanPort: udpPort, encryptedPort: udpPort, epoch: epochSchema });
const remoteSchema = z.object({ id, ip: ipText, mac: macText, peer: peerSchema });
const vipSchema = z.object({ vip: ipText, backends: z.array(z.object({ ip: ipText, state: z.enum(['up', 'draining']) })) });
const dnsSchema = z.object({ address: ipText.optional() });

/**
 * `canonical`, or `given` itself when they are equal: strings are immutable,
 * so the copy keeps the caller's string rather than a second one equal to it
 * (a plane holds an IP and a MAC per remote endpoint of every network).
 */
function keep(given: string, canonical: string): string {
  return canonical === given ? given : canonical;
}

/** A network's keys, validated and copied (ascending generations, secrets copied). */
export type Encryption = NetworkEncryption & { readonly suite: SuiteName };

function copyEncryption(e: z.infer<typeof encryptionShape>): Encryption {
  return {
    suite: e.suite,
    keys: e.keys.map((k) => ({ generation: k.generation, secret: Uint8Array.from(k.secret) })).sort((a, b) => a.generation - b.generation),
    sendGeneration: e.sendGeneration,
  };
}

/** @throws InvalidOptionsError naming the bad field. */
export function parseNetworkSpec(spec: unknown, what: string): NetworkSpec & { readonly encryption?: Encryption } {
  const s = parseOptions(networkSchema, spec, what);
  return {
    id: s.id,
    name: s.name,
    vni: s.vni,
    mtu: s.mtu,
    subnet: s.subnet,
    ...(s.gateway !== undefined ? { gateway: s.gateway } : {}),
    internal: s.internal,
    ...(s.encryption !== undefined ? { encryption: copyEncryption(s.encryption) } : {}),
  };
}

/** @throws InvalidOptionsError naming the bad field. */
export function parseEncryption(encryption: unknown, what: string): Encryption {
  return copyEncryption(parseOptions(encryptionShape, encryption, what));
}

/** @throws InvalidOptionsError naming the bad field. */
export function parseLocalSpec(spec: unknown, what: string): LocalEndpointSpec {
  const s = parseOptions(localSchema, spec, what);
  return {
    id: s.id,
    name: s.name,
    ip: keep(s.ip, canonicalIp(s.ip)),
    prefixLength: s.prefixLength,
    mac: keep(s.mac, formatMac(parseMac(s.mac))),
    ...(s.sandbox !== undefined ? { sandbox: s.sandbox } : {}),
    ...(s.interfaceName !== undefined ? { interfaceName: s.interfaceName } : {}),
    ...(s.resolvConf !== undefined ? { resolvConf: s.resolvConf } : {}),
  };
}

/** @throws InvalidOptionsError naming the bad field. */
export function parseRemoteSpec(spec: unknown, what: string): RemoteEndpointSpec {
  const s = parseOptions(remoteSchema, spec, what);
  return { id: s.id, ip: keep(s.ip, canonicalIp(s.ip)), mac: keep(s.mac, formatMac(parseMac(s.mac))), peer: { ...s.peer } };
}

/** @throws InvalidOptionsError naming the bad field. */
export function parseVip(vip: unknown, what: string): ServiceVip {
  const s = parseOptions(vipSchema, vip, what);
  return {
    vip: canonicalIp(s.vip),
    backends: s.backends.map((b) => ({ ip: canonicalIp(b.ip), state: b.state })).sort((x, y) => (x.ip < y.ip ? -1 : x.ip > y.ip ? 1 : 0)),
  };
}

/** @throws InvalidOptionsError (field `address`) for text that is not an IP literal. */
export function parseDnsAddress(address: unknown, what: string): string | undefined {
  const s = parseOptions(dnsSchema, { address }, what);
  return s.address === undefined ? undefined : canonicalIp(s.address);
}

/** Built once: a zod schema costs far more to build (and compile on first use) than to run, and every data-plane call checks an id. */
const idSchemas: Record<'networkId' | 'endpointId', OptionsSchema<Record<string, string>>> = {
  networkId: z.object({ networkId: id }),
  endpointId: z.object({ endpointId: id }),
};

/** @throws InvalidOptionsError (field `networkId` or `endpointId`) for an id that is not 1–255 characters. */
export function parseId(field: 'networkId' | 'endpointId', value: unknown, what: string): string {
  return parseOptions(idSchemas[field], { [field]: value }, what)[field]!;
}
