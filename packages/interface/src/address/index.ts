export { tryParseIpv4, parseIpv4, formatIpv4, isValidIpv4 } from './ipv4';
export { tryParseIpv6, parseIpv6, formatIpv6, isValidIpv6, writeIpv6, readIpv6 } from './ipv6';
export { parseIp, tryParseIp, formatIp, isValidIp, canonicalIp, familyBits, type IpAddress, type IpFamily } from './ip';
export { BROADCAST_MAC, parseMac, tryWriteMac, formatMac, isValidMac, macForIpv4 } from './mac';
export { formatSocketAddress, parseSocketAddress, toSocketAddress, sameSocketAddress, type SocketAddress } from './socket-address';
