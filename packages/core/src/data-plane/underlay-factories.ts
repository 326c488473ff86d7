import { InvalidOptionsError, parseOptions } from '@weft/interface';
import { MemoryNetwork, UdpUnderlay } from '@weft/vxlan';
import { z } from 'zod';
import type { UnderlayFactory } from './options';

const udpFactoryOptionsSchema = z.object({ sourcePorts: z.number().int().min(0).max(64).default(0) }).strict();

/**
 * The default {@link UnderlayFactory}: a `node:dgram` socket (`@weft/vxlan`
 * `UdpUnderlay`) bound at the address, with a pool of `sourcePorts` per-flow
 * source-port sockets (0–64, default 0).
 * @throws InvalidOptionsError naming the bad option.
 */
export function udpUnderlayFactory(options: { sourcePorts?: number } = {}): UnderlayFactory {
  const { sourcePorts } = parseOptions(udpFactoryOptionsSchema, options, 'udpUnderlayFactory');
  return (address) => UdpUnderlay.bind({ host: address.host, port: address.port, sourcePorts });
}

/**
 * An {@link UnderlayFactory} that attaches to an in-process `MemoryNetwork`
 * (tests, simulations): port 0 takes a free port of the network, as a socket would.
 * A taken address rejects with the network's `InvalidOptionsError`.
 * @throws InvalidOptionsError (field `network`) when `network` is not a `MemoryNetwork`.
 */
export function memoryUnderlayFactory(network: MemoryNetwork): UnderlayFactory {
  if (!(network instanceof MemoryNetwork)) {
    throw new InvalidOptionsError('network', `memoryUnderlayFactory: option "network" must be a MemoryNetwork of @weft/vxlan (got ${network === null ? 'null' : typeof network})`);
  }
  return async (address) => network.attach({ host: address.host, port: address.port });
}
