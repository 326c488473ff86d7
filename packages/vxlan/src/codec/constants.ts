/** EtherType of IPv4 (RFC 894). */
export const ETHERTYPE_IPV4 = 0x0800;
/** EtherType of ARP (RFC 826). */
export const ETHERTYPE_ARP = 0x0806;
/** EtherType (TPID) of an IEEE 802.1Q VLAN tag. */
export const ETHERTYPE_VLAN = 0x8100;
/** EtherType of IPv6 (RFC 2464); not decoded here, named for callers that dispatch on it. */
export const ETHERTYPE_IPV6 = 0x86dd;
/** IPv4 protocol number of ICMP. */
export const IPPROTO_ICMP = 1;
/** IPv4 protocol number of UDP. */
export const IPPROTO_UDP = 17;
/** IANA-assigned UDP destination port of VXLAN (RFC 7348 §5). */
export const VXLAN_PORT = 4789;
/** Length of the VXLAN header in bytes (RFC 7348 §5). */
export const VXLAN_HEADER_LENGTH = 8;
/** The VXLAN "I" flag (valid VNI), bit 3 of the first header byte (RFC 7348 §5). */
export const VXLAN_FLAG_I = 0x08;
/** Largest VNI: the field is 24 bits wide. */
export const VXLAN_MAX_VNI = 0xffffff;
/** Length of an Ethernet II header without VLAN tag, in bytes. */
export const ETHERNET_HEADER_LENGTH = 14;
/** Length of an 802.1Q tag (TPID + TCI), in bytes. */
export const VLAN_TAG_LENGTH = 4;
/** Length of an IPv4 header without options, in bytes. */
export const IPV4_HEADER_LENGTH = 20;
/** Length of a UDP header, in bytes. */
export const UDP_HEADER_LENGTH = 8;
/** Length of an ARP packet for IPv4 over Ethernet, in bytes. */
export const ARP_LENGTH = 28;
/** ICMPv4 echo reply type. */
export const ICMP_ECHO_REPLY = 0;
/** ICMPv4 echo request type. */
export const ICMP_ECHO_REQUEST = 8;
