/** libpcap capture files: a writer (memory or file sinks), a reader, and the underlay-frame helper for VXLAN packets. */
export * from './pcap-format';
export { MemoryPcapSink, FilePcapSink, type PcapSink } from './pcap-sink';
export { PcapWriter, type PcapWriterOptions } from './pcap-writer';
export { readPcap, type PcapFile, type PcapHeader, type PcapRecord } from './pcap-reader';
export { buildUnderlayFrame, type UnderlayFrameOptions } from './underlay-frame';
export { PcapClosedError } from './errors';
