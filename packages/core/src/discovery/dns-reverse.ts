import { formatIp } from '@weft/interface';

const OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const NIBBLE = /^[0-9a-f]$/;

/**
 * The address a reverse-lookup name stands for: `d.c.b.a.in-addr.arpa` →
 * `a.b.c.d`; 32 nibble labels under `ip6.arpa` → the IPv6 address in RFC
 * 5952 text. `name` is lowercase without the trailing dot. Undefined for any
 * other name, including partial reverse names (`0.10.in-addr.arpa`) and
 * octets with leading zeros.
 */
export function reverseNameToIp(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const parts = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4) return undefined;
    for (const p of parts) if (!OCTET.test(p) || Number(p) > 255) return undefined;
    return `${parts[3]}.${parts[2]}.${parts[1]}.${parts[0]}`;
  }
  if (name.endsWith('.ip6.arpa')) {
    const body = name.slice(0, -'.ip6.arpa'.length);
    if (body.length !== 63) return undefined;
    let hex = '';
    for (let i = 62; i >= 0; i -= 2) {
      const c = body[i] as string;
      if (!NIBBLE.test(c) || (i > 0 && body[i - 1] !== '.')) return undefined;
      hex += c;
    }
    return formatIp({ family: 6, value: BigInt(`0x${hex}`) });
  }
  return undefined;
}
