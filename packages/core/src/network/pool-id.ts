/** The `@weft/ipam` pool id of a network's subnet (address space `default`). */
export function poolIdOf(subnet: string): string {
  return `default/${subnet}`;
}
