import { isValidIpv4 } from '@weft/interface';
import { z } from 'zod';
import type { CapabilityReader } from '../runner/capability';

/** Options of {@link KernelDataPlane.open}. */
export interface KernelDataPlaneOptions {
  /** This node's id (1–255 characters); part of every name the plane creates (see `namePrefix`). */
  readonly nodeId: string;
  /** The underlay IPv4 address (the VXLAN devices' `local`, advertised to peers). */
  readonly underlayAddress: string;
  /** The underlay device whose MTU the overlay MTU derives from. Default: the device holding `underlayAddress` in the host namespace. */
  readonly underlayDevice?: string;
  /** UDP port of kernel VXLAN (the devices' `dstport`), default 4789. */
  readonly vxlanPort?: number;
  /** UDP port of sealed traffic (the encrypted relay binds it on the underlay address; advertised in `info.encryptedPort`), default 4790. */
  readonly encryptedPort?: number;
  /** Bytes an encrypted network's sealing adds per packet, subtracted from its MTU (default 32, `@weft/crypto`'s header + tag). */
  readonly encryptionOverhead?: number;
  /**
   * Prefix of every namespace the plane creates (`<prefix>-<12 hex>`); must
   * differ between nodes sharing a machine. Default `weft-<nodeId>` (or
   * `weft-<hash>` for ids that are not short and file-name safe).
   */
  readonly namePrefix?: string;
  /** Path of the host (underlay) namespace the plane runs its host-side commands in; default: this process's namespace. */
  readonly hostNetns?: string;
  /** Each command is killed after this many milliseconds (default 20 000). */
  readonly commandTimeoutMs?: number;
  /** Reads the effective capability set (default `CapEff` of /proc/self/status); for tests. */
  readonly capabilityReader?: CapabilityReader;
  /** This start's epoch (16 lowercase hex digits), default random. */
  readonly epoch?: string;
  /**
   * Egress for containers on non-`internal` networks, as Docker's
   * `docker_gwbridge`: a gateway bridge in the host namespace, a second veth
   * pair per container and nftables masquerade (see README, "Egress").
   * Default `{}` (on, with the defaults of {@link KernelEgressOptions});
   * `false` turns it off (nothing is created in the host namespace, no
   * container gets a default route).
   */
  readonly egress?: false | KernelEgressOptions;
}

/** Options of the kernel plane's egress (`KernelDataPlaneOptions.egress`). */
export interface KernelEgressOptions {
  /**
   * IPv4 subnet of the gateway bridge and the containers' egress addresses
   * (`a.b.c.d/len`, network address, prefix length 8–29); the bridge gets the
   * first host address, the containers the next free ones. It must not
   * overlap an address of another device in the host namespace. Default: the
   * first of 172.18.0.0/16, 172.19.0.0/16, … 172.31.0.0/16 that overlaps none
   * (172.18.0.0/16 on a clean host, like Docker's `docker_gwbridge`), or the
   * one the plane's bridge already has (adopted after a restart).
   */
  readonly subnet?: string;
  /** Name of the container's egress interface (default `eth1`); a container's overlay interface may not have this name. */
  readonly interfaceName?: string;
}

const port = z.number().int().min(1).max(65535);
const ifname = z.string().regex(/^[^\s/:]{1,15}$/, 'must be an interface name (1–15 characters, no space, / or :)');

function isIpv4Network(text: string): boolean {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(text);
  if (!m || !isValidIpv4(m[1]!)) return false;
  const len = Number(m[2]);
  if (len < 8 || len > 29) return false;
  const value = m[1]!.split('.').reduce((a, b) => a * 256 + Number(b), 0);
  return value % 2 ** (32 - len) === 0;
}

const egressSchema = z
  .object({
    subnet: z.string().refine(isIpv4Network, 'must be an IPv4 network a.b.c.d/len with a prefix length of 8–29 and no host bits set').optional(),
    interfaceName: ifname.default('eth1'),
  })
  .strict();

/** @internal */
export const kernelDataPlaneOptionsSchema = z
  .object({
    nodeId: z.string().min(1).max(255),
    underlayAddress: z.string().refine(isValidIpv4, 'must be an IPv4 address'),
    underlayDevice: z.string().regex(/^[^\s/:]{1,15}$/, 'must be an interface name (1–15 characters, no space, / or :)').optional(),
    vxlanPort: port.default(4789),
    encryptedPort: port.default(4790),
    encryptionOverhead: z.number().int().min(0).max(1024).default(32),
    namePrefix: z.string().regex(/^[A-Za-z0-9_.-]{1,48}$/, 'must be 1–48 of A-Z a-z 0-9 _ . -').optional(),
    hostNetns: z.string().regex(/^\/[^\0\n]*$/, 'must be an absolute path').optional(),
    commandTimeoutMs: z.number().int().min(100).max(600_000).default(20_000),
    capabilityReader: z.custom<CapabilityReader>((v) => typeof v === 'function', 'must be a function').optional(),
    epoch: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 lowercase hex digits').optional(),
    // not a z.union: its errors would name only "egress", not the field inside it
    egress: z
      .unknown()
      .optional()
      .transform((v, ctx): false | z.output<typeof egressSchema> => {
        if (v === false) return false;
        const r = egressSchema.safeParse(v ?? {});
        if (r.success) return r.data;
        for (const issue of r.error.issues) ctx.addIssue({ ...issue, message: v === true ? 'must be false or an object' : issue.message } as never);
        return z.NEVER;
      }),
  })
  .strict();

/** @internal */
export type ResolvedKernelOptions = z.output<typeof kernelDataPlaneOptionsSchema>;
