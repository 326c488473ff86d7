import { z } from 'zod';

const endpointName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/, 'must be 1-255 characters: a letter or digit, then letters, digits, "_", "." or "-"');

/** Schema of {@link AttachOptions}. */
export const attachOptionsSchema = z
  .object({
    /** The endpoint's name on the network, unique there (case-insensitive). */
    name: endpointName,
    /** More names for the same endpoint (discovery). */
    aliases: z.array(endpointName).default([]),
    /** A static address inside the network's subnet; default: the next free one (serial). */
    ip: z.string().min(1).optional(),
    /**
     * Idempotency key: a retry with the same id (after a timeout or a leader
     * change) gets the same endpoint, never a second address. Default: a fresh id.
     */
    requestId: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be 1-128 characters of letters, digits, "_", ".", ":" or "-"')
      .optional(),
    /** The service this endpoint is a task of: lets it join non-attachable networks. */
    service: endpointName.optional(),
    /** Where the endpoint lives (kernel plane: a network-namespace path); opaque to core. */
    sandbox: z.string().min(1).optional(),
    /** Interface name inside the sandbox (kernel plane). */
    interfaceName: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be 1-15 characters (a Linux interface name)').optional(),
    /**
     * Kernel plane: a resolv.conf file (absolute path, e.g. `/etc/netns/NAME/resolv.conf`)
     * written to name the network's embedded DNS server, for the container to use.
     */
    resolvConf: z.string().regex(/^\/[^\0\n]*[^/\0\n]$/, 'must be the absolute path of a file (e.g. /etc/netns/NAME/resolv.conf)').optional(),
  })
  .strict();

/** Options of `WeftNode.attach`. */
export type AttachOptions = z.input<typeof attachOptionsSchema>;
/** Attach options after validation (defaults filled in). */
export type ParsedAttachOptions = z.output<typeof attachOptionsSchema>;
