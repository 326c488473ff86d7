/**
 * The client that drives etcd in the raft benchmark, as light as our
 * JSON-lines KvClient: one TCP connection (node:net), HTTP/2 framing written
 * by hand (./h2-frames.ts), a header block built once, the PutRequest
 * protobuf encoded by hand (./etcd-proto.ts), and the requests made in one
 * turn written together. It does unary `KV.Put` and nothing else; what it
 * does not need it does not parse (response header blocks are skipped: a put
 * succeeded when its stream carried a PutResponse with a revision, since
 * etcd answers a refused call with trailers only). Flow control is honoured
 * both ways; server PINGs are answered.
 *
 * bench/raft/etcd-client.ts (node:http2, full status decoding) is the
 * independent check: the benchmark reads a key written through this client
 * back through that one.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { decodePutResponse, encodePutRequest, unframe } from './etcd-proto';
import { EtcdCallError } from './etcd-client';
import { DEFAULT_WINDOW, FLAG, FRAME, FRAME_HEADER, MAX_WINDOW, SETTING, clientPreface, frame, grpcRequestHeaderBlock, windowUpdateFrame, writeFrameHeader } from './h2-frames';

const PUT_PATH = '/etcdserverpb.KV/Put';
const encoder = new TextEncoder();
/** Received DATA bytes after which the connection window is topped up again. */
const WINDOW_REFILL = 1 << 30;

interface Stream {
  resolve: (revision: number) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  chunks: Buffer[];
}

interface Queued {
  request: Buffer;
  dataLength: number;
  stream: Stream;
}

export class EtcdPutClient {
  private readonly headerBlock: Buffer;
  private nextStreamId = 1;
  private readonly streams = new Map<number, Stream>();
  private readonly queued: Queued[] = [];
  /** Connection-level send window (bytes of DATA we may still send). */
  private sendWindow = DEFAULT_WINDOW;
  /** The server's per-stream initial window: no single request may exceed it. */
  private streamWindow = DEFAULT_WINDOW;
  private maxStreams = Number.POSITIVE_INFINITY;
  private receivedSinceRefill = 0;
  private inbound: Buffer = Buffer.alloc(0);
  private out: Buffer[] = [];
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    authority: string,
  ) {
    this.headerBlock = grpcRequestHeaderBlock(PUT_PATH, authority, 'getProtocol' in socket);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => this.fail(new EtcdCallError(PUT_PATH, -1, 'connection closed')));
    socket.write(clientPreface());
  }

  /**
   * Connects to etcd's client URL `http://host:port`, or `https://host:port`
   * with `tls` (CA and client certificate; ALPN h2 is added, as gRPC clients
   * offer it); rejects after `timeoutMs`.
   */
  static connect(url: string, timeoutMs = 5000, tls?: ConnectionOptions): Promise<EtcdPutClient> {
    const { hostname, port, protocol } = new URL(url);
    if ((protocol === 'https:') !== (tls !== undefined)) return Promise.reject(new EtcdCallError(PUT_PATH, -1, `${url}: https URLs need tls options, http ones take none`));
    return new Promise((resolve, reject) => {
      const target = { host: hostname, port: Number(port) };
      const socket: Socket = tls === undefined ? connect(target) : tlsConnect({ ...tls, ...target, ALPNProtocols: ['h2'] });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new EtcdCallError(PUT_PATH, -1, `connect to ${url} timed out`));
      }, timeoutMs);
      socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
        clearTimeout(timer);
        resolve(new EtcdPutClient(socket, `${hostname}:${port}`));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new EtcdCallError(PUT_PATH, -1, `connect to ${url}: ${err.message}`));
      });
    });
  }

  /** `KV.Put(key, value)`; resolves with the revision etcd assigned, once it acknowledged the write. */
  put(key: string | Uint8Array, value: string | Uint8Array, timeoutMs = 10_000): Promise<number> {
    if (this.closed) return Promise.reject(new EtcdCallError(PUT_PATH, -1, 'connection closed'));
    const data = encodePutRequest(typeof key === 'string' ? encoder.encode(key) : key, typeof value === 'string' ? encoder.encode(value) : value);
    if (data.length > this.streamWindow || data.length > 16_384) {
      return Promise.reject(new EtcdCallError(PUT_PATH, -1, `request of ${data.length} bytes exceeds one DATA frame or the stream window`));
    }
    const block = this.headerBlock;
    const request = Buffer.allocUnsafe(2 * FRAME_HEADER + block.length + data.length);
    request.set(block, FRAME_HEADER);
    request.set(data, 2 * FRAME_HEADER + block.length);
    return new Promise((resolve, reject) => {
      const stream: Stream = { resolve, reject, chunks: [], timer: setTimeout(() => this.expire(stream), timeoutMs) };
      this.queued.push({ request, dataLength: data.length, stream });
      this.pump();
    });
  }

  /** The TLS socket when connected over https (to read what was negotiated), else undefined. */
  get tlsSocket(): TLSSocket | undefined {
    return 'getProtocol' in this.socket ? (this.socket as TLSSocket) : undefined;
  }

  /** Closes the connection; calls in flight reject. */
  close(): void {
    this.socket.destroy();
    this.fail(new EtcdCallError(PUT_PATH, -1, 'client closed'));
  }

  /** Opens streams for queued requests while flow control and the stream limit allow. */
  private pump(): void {
    while (this.queued.length > 0 && this.streams.size < this.maxStreams && this.sendWindow >= this.queued[0]!.dataLength) {
      const q = this.queued.shift()!;
      const id = this.nextStreamId;
      this.nextStreamId += 2;
      const block = this.headerBlock.length;
      writeFrameHeader(q.request, 0, block, FRAME.HEADERS, FLAG.END_HEADERS, id);
      writeFrameHeader(q.request, FRAME_HEADER + block, q.dataLength, FRAME.DATA, FLAG.END_STREAM, id);
      this.sendWindow -= q.dataLength;
      this.streams.set(id, q.stream);
      this.send(q.request);
    }
  }

  /** Queues bytes for the socket; everything queued in one turn goes out in one write. */
  private send(b: Buffer): void {
    if (this.out.length === 0) {
      setImmediate(() => {
        const bufs = this.out;
        this.out = [];
        if (!this.socket.destroyed) this.socket.write(bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs));
      });
    }
    this.out.push(b);
  }

  private onData(chunk: Buffer): void {
    let buf = this.inbound.length === 0 ? chunk : Buffer.concat([this.inbound, chunk]);
    let off = 0;
    while (buf.length - off >= FRAME_HEADER) {
      const len = (buf[off]! << 16) | (buf[off + 1]! << 8) | buf[off + 2]!;
      if (buf.length - off - FRAME_HEADER < len) break;
      const type = buf[off + 3]!;
      const flags = buf[off + 4]!;
      const id = buf.readUInt32BE(off + 5) & MAX_WINDOW;
      const payload = buf.subarray(off + FRAME_HEADER, off + FRAME_HEADER + len);
      off += FRAME_HEADER + len;
      this.onFrame(type, flags, id, payload);
    }
    buf = buf.subarray(off);
    this.inbound = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
  }

  private onFrame(type: number, flags: number, id: number, payload: Buffer): void {
    switch (type) {
      case FRAME.DATA: {
        this.receivedSinceRefill += payload.length;
        if (this.receivedSinceRefill >= WINDOW_REFILL) {
          this.send(windowUpdateFrame(0, this.receivedSinceRefill));
          this.receivedSinceRefill = 0;
        }
        const s = this.streams.get(id);
        if (s) {
          const pad = flags & FLAG.PADDED ? payload[0]! : -1;
          s.chunks.push(pad < 0 ? payload : payload.subarray(1, payload.length - pad));
          if (flags & FLAG.END_STREAM) this.finish(id);
        }
        return;
      }
      case FRAME.HEADERS:
        // Response headers, or (END_STREAM) the trailers that end the call.
        if (flags & FLAG.END_STREAM) this.finish(id);
        return;
      case FRAME.RST_STREAM:
        this.settle(id, new EtcdCallError(PUT_PATH, -1, `stream reset by etcd (HTTP/2 error ${payload.readUInt32BE(0)})`));
        return;
      case FRAME.SETTINGS:
        if (flags & FLAG.ACK) return;
        for (let p = 0; p + 6 <= payload.length; p += 6) {
          const key = payload.readUInt16BE(p);
          const value = payload.readUInt32BE(p + 2);
          if (key === SETTING.MAX_CONCURRENT_STREAMS) this.maxStreams = value;
          else if (key === SETTING.INITIAL_WINDOW_SIZE) this.streamWindow = value;
        }
        this.send(frame(FRAME.SETTINGS, FLAG.ACK, 0));
        this.pump();
        return;
      case FRAME.PING:
        if (!(flags & FLAG.ACK)) this.send(frame(FRAME.PING, FLAG.ACK, 0, payload));
        return;
      case FRAME.WINDOW_UPDATE:
        if (id === 0) {
          this.sendWindow += payload.readUInt32BE(0) & MAX_WINDOW;
          this.pump();
        }
        return;
      case FRAME.GOAWAY:
        this.socket.destroy();
        this.fail(new EtcdCallError(PUT_PATH, -1, `etcd sent GOAWAY (HTTP/2 error ${payload.readUInt32BE(4)})`));
        return;
      default:
        return; // PRIORITY, CONTINUATION of a header block we do not read, unknown types: ignored
    }
  }

  private finish(id: number): void {
    const s = this.streams.get(id);
    if (!s) return;
    if (s.chunks.length === 0) {
      this.settle(id, new EtcdCallError(PUT_PATH, -1, 'trailers-only answer: etcd refused the put (read its status with EtcdClient)'));
      return;
    }
    try {
      const revision = decodePutResponse(unframe(s.chunks.length === 1 ? s.chunks[0]! : Buffer.concat(s.chunks))).revision;
      if (!(revision > 0)) throw new EtcdCallError(PUT_PATH, -1, `PutResponse without a revision`);
      this.settle(id, undefined, revision);
    } catch (err) {
      this.settle(id, err as Error);
    }
  }

  private settle(id: number, err: Error | undefined, revision = 0): void {
    const s = this.streams.get(id);
    if (!s) return;
    this.streams.delete(id);
    clearTimeout(s.timer);
    if (err) s.reject(err);
    else s.resolve(revision);
    this.pump();
  }

  private expire(stream: Stream): void {
    const q = this.queued.findIndex((x) => x.stream === stream);
    if (q >= 0) this.queued.splice(q, 1);
    for (const [id, s] of this.streams) {
      if (s !== stream) continue;
      this.streams.delete(id);
      const p = Buffer.allocUnsafe(4);
      p.writeUInt32BE(0x8, 0); // CANCEL
      this.send(frame(FRAME.RST_STREAM, 0, id, p));
    }
    stream.reject(new EtcdCallError(PUT_PATH, -1, 'timed out'));
    this.pump();
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) {
      clearTimeout(s.timer);
      s.reject(err);
    }
    for (const q of this.queued) {
      clearTimeout(q.stream.timer);
      q.stream.reject(err);
    }
    this.streams.clear();
    this.queued.length = 0;
  }
}
