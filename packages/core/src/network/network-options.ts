import { z } from 'zod';

/** Network names: 1–64 characters, starting with a letter or digit, then letters, digits, `_`, `.`, `-`. */
export const networkNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 characters: a letter or digit, then letters, digits, "_", "." or "-"');

/** Schema of {@link CreateNetworkOptions}. */
export const createNetworkOptionsSchema = z
  .object({
    name: networkNameSchema,
    /** Explicit subnet (CIDR without host bits); default: the next free /24 of the cluster's default pools. */
    subnet: z.string().min(1).optional(),
    /** Gateway inside the subnet; default: its first usable address. */
    gateway: z.string().min(1).optional(),
    /** Carry the network's traffic sealed with a per-network secret. Default false. */
    encrypted: z.boolean().default(false),
    /** Let standalone endpoints attach (not only a service's tasks). Default false, as Swarm. */
    attachable: z.boolean().default(false),
    /** No egress out of the overlay (recorded for the data planes). Default false. */
    internal: z.boolean().default(false),
    /** Free-form labels. */
    labels: z.record(z.string(), z.string()).default({}),
    /** Overlay MTU in bytes; default: derived from the nodes' underlay MTU. */
    mtu: z.number().int().min(68).max(65535).optional(),
    /** AEAD suite of an encrypted network. Default aes-256-gcm. */
    suite: z.enum(['aes-256-gcm', 'chacha20-poly1305', 'xsalsa20-poly1305']).default('aes-256-gcm'),
  })
  .strict();

/** Options of `WeftNode.createNetwork`. */
export type CreateNetworkOptions = z.input<typeof createNetworkOptionsSchema>;
