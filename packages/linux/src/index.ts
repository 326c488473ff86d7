/**
 * @packageDocumentation
 * @weft/linux — the Linux kernel data plane: core's `DataPlane` seam
 * implemented with a network namespace per network holding a bridge and a
 * kernel `vxlan` device, containers (network namespaces) attached by veth
 * pairs, static FDB/neighbour/flood entries, and a reconcile that repairs
 * the kernel from the desired state. Driven by iproute2 through
 * {@link CommandRunner}; needs root or `CAP_NET_ADMIN` + `CAP_SYS_ADMIN`.
 * Encrypted networks cross an encrypted relay in the node process
 * (`@weft/crypto`), since this kernel has no ESP.
 * A leaf package: it depends on `@weft/interface`, `@weft/crypto`, `@weft/vxlan` and `zod` only.
 */
export { LinuxDataPlaneError, LinuxCommandError, MissingCapabilityError, UnsupportedFeatureError, LinuxStateError } from './errors';
export { CommandRunner, type CommandRunnerOptions, type CommandTarget, type BatchOptions, type CommandOutput } from './runner/command-runner';
export { CAP_NET_ADMIN, CAP_SYS_ADMIN, readEffectiveCapabilities, hasCapability, type CapabilityReader } from './runner/capability';
export { KernelDataPlane, type ReconcileReport, type ReconcileError } from './plane/kernel-data-plane';
export type { KernelDataPlaneOptions, KernelEgressOptions } from './plane/options';
export type { EgressState, EgressPortState } from './plane/egress-gateway';
export type { EgressTables } from './plane/egress';
export { deriveOverlayMtu } from './plane/mtu';
export { planNetwork, type DesiredNetwork, type NetworkPlan, type PlanOptions, type ReconcileChange } from './plane/diff';
export { parseSnapshot, type NamespaceSnapshot, type VxlanState, type PortState, type KernelFdbEntry, type KernelNeighbourEntry } from './plane/snapshot';
export { defaultNamePrefix, networkNamespaceName, bridgePortName } from './plane/names';
export type { KernelAttachSpec, VxlanFields } from './plane/commands';
export type { GuardState } from './plane/cleartext-guard';
export type { HelperStatus } from './plane/dns-protocol';
export type { KnownNetwork } from './plane/read-back';
