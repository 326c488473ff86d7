/** Magic number of a classic libpcap file with microsecond timestamps. */
export const PCAP_MAGIC = 0xa1b2c3d4;
/** Magic number of a classic libpcap file with nanosecond timestamps. */
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
/** Length of the libpcap global header, in bytes. */
export const PCAP_GLOBAL_HEADER_LENGTH = 24;
/** Length of a libpcap per-record header, in bytes. */
export const PCAP_RECORD_HEADER_LENGTH = 16;
/** Link type of Ethernet frames (DLT_EN10MB). */
export const LINKTYPE_ETHERNET = 1;
/** Default snapshot length, in bytes: frames longer than this are truncated in the file. */
export const PCAP_DEFAULT_SNAPLEN = 65535;
