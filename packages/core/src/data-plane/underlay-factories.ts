import { MemoryNetwork, UdpUnderlay } from '@weft/vxlan';
import type { UnderlayFactory } from './options';

/**
 * The default {@link UnderlayFactory}: a `node:dgram` socket (`@weft/vxlan`
 * `UdpUnderlay`) bound at the address, with a pool of `sourcePorts` per-flow
 * source-port sockets (0–64, default 0).
 */
export function udpUnderlayFactory(options: { sourcePorts?: number } = {}): UnderlayFactory {
  return (address) => UdpUnderlay.bind({ host: address.host, port: address.port, sourcePorts: options.sourcePorts ?? 0 });
}

/**
 * An {@link UnderlayFactory} that attaches to an in-process `MemoryNetwork`
 * (tests, simulations): port 0 takes a free port of the network, as a socket would.
 * A taken address rejects with the network's `InvalidOptionsError`.
 */
export function memoryUnderlayFactory(network: MemoryNetwork): UnderlayFactory {
  return async (address) => network.attach({ host: address.host, port: address.port });
}
