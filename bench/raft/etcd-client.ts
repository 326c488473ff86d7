/**
 * A bench-only etcd v3 client as light as our JSON-lines KvClient: one
 * HTTP/2 connection (node:http2, cleartext with prior knowledge, as gRPC
 * clients connect to etcd's client URL), one stream per call, requests
 * encoded by hand (./etcd-proto.ts). No retries, no load balancing, no
 * leader following, no protobuf library: what it costs per put is what
 * HTTP/2 and gRPC framing cost.
 */
import { connect, constants, type ClientHttp2Session, type SecureClientSessionOptions } from 'node:http2';
import {
  decodePutResponse,
  decodeRangeResponse,
  decodeStatusResponse,
  encodePutRequest,
  encodeRangeRequest,
  encodeStatusRequest,
  unframe,
  type ResponseHeader,
} from './etcd-proto';

/** A call did not complete with gRPC status 0 (OK). */
export class EtcdCallError extends Error {
  override name = 'EtcdCallError';
  constructor(
    readonly path: string,
    /** gRPC status code, or -1 when the stream failed before one arrived. */
    readonly grpcStatus: number,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_CONTENT_TYPE, HTTP2_HEADER_TE } = constants;
const encoder = new TextEncoder();

export class EtcdClient {
  private constructor(private readonly session: ClientHttp2Session) {
    session.on('error', () => {});
  }

  /** Opens the connection to `url` (e.g. `http://127.0.0.1:2379`, or `https://…` with `tls`: CA, client certificate); rejects after `timeoutMs`. */
  static connect(url: string, timeoutMs = 5000, tls?: SecureClientSessionOptions): Promise<EtcdClient> {
    return new Promise((resolve, reject) => {
      const session = tls === undefined ? connect(url) : connect(url, tls);
      const timer = setTimeout(() => {
        session.destroy();
        reject(new EtcdCallError(url, -1, `connect timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      session.once('connect', () => {
        clearTimeout(timer);
        session.setTimeout(0);
        resolve(new EtcdClient(session));
      });
      session.once('error', (err) => {
        clearTimeout(timer);
        reject(new EtcdCallError(url, -1, err.message));
      });
    });
  }

  /** Unary call: sends one framed request on a new stream, resolves with the response message (unframed). */
  private call(path: string, frame: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const stream = this.session.request({
        [HTTP2_HEADER_METHOD]: 'POST',
        [HTTP2_HEADER_PATH]: path,
        [HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
        [HTTP2_HEADER_TE]: 'trailers',
      });
      const chunks: Buffer[] = [];
      let status: number | undefined;
      let message = '';
      const timer = setTimeout(() => stream.close(constants.NGHTTP2_CANCEL), timeoutMs);
      const onStatus = (h: Record<string, unknown>): void => {
        if (h['grpc-status'] !== undefined) {
          status = Number(h['grpc-status']);
          message = String(h['grpc-message'] ?? '');
        }
      };
      stream.on('response', onStatus); // a trailers-only answer (an error) carries the status here
      stream.on('trailers', onStatus);
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', () => {});
      stream.on('close', () => {
        clearTimeout(timer);
        if (status === 0) {
          try {
            resolve(unframe(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
          } catch (err) {
            reject(err);
          }
        } else reject(new EtcdCallError(path, status ?? -1, status === undefined ? 'stream closed without a gRPC status' : decodeURIComponent(message)));
      });
      stream.end(frame);
    });
  }

  /** etcd `KV.Put`; resolves with the response header (its revision) once etcd acknowledged the write. */
  async put(key: string | Uint8Array, value: string | Uint8Array, timeoutMs = 10_000): Promise<ResponseHeader> {
    const k = typeof key === 'string' ? encoder.encode(key) : key;
    const v = typeof value === 'string' ? encoder.encode(value) : value;
    return decodePutResponse(await this.call('/etcdserverpb.KV/Put', encodePutRequest(k, v), timeoutMs));
  }

  /** etcd `KV.Range` of one key (linearizable); the value, or undefined when the key does not exist. */
  async get(key: string | Uint8Array, timeoutMs = 10_000): Promise<Uint8Array | undefined> {
    const k = typeof key === 'string' ? encoder.encode(key) : key;
    return decodeRangeResponse(await this.call('/etcdserverpb.KV/Range', encodeRangeRequest(k), timeoutMs));
  }

  /** etcd `Maintenance.Status`: this member's id and the leader it knows (0 for none). */
  async status(timeoutMs = 5000): Promise<{ memberId: bigint; leader: bigint }> {
    return decodeStatusResponse(await this.call('/etcdserverpb.Maintenance/Status', encodeStatusRequest(), timeoutMs));
  }

  /** Closes the connection (streams in flight are cancelled). */
  close(): void {
    this.session.destroy();
  }
}
