import { closeSync, openSync, writeSync } from 'node:fs';
import { parseOptions } from '@weft/interface';
import { z } from 'zod';
import { PcapClosedError } from './errors';

const filePathSchema = z.object({ path: z.string().min(1, 'must be a non-empty file path') });

/** Where a `PcapWriter` puts its bytes. Chunks are written in order; the sink may keep them (copy not required). */
export interface PcapSink {
  /** Appends `chunk`. The writer does not touch `chunk` after the call. */
  write(chunk: Uint8Array): void;
  /** Releases the sink (file descriptor, ...). Called once by `PcapWriter.close()`. */
  close(): void;
}

/** Keeps a capture in memory; `bytes()` returns the whole file so far. */
export class MemoryPcapSink implements PcapSink {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  /** Appends `chunk` (kept by reference; the writer never reuses it). */
  write(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Nothing to release; the bytes stay readable. */
  close(): void {}

  /** The capture so far as one new buffer (libpcap file bytes). */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let p = 0;
    for (const c of this.chunks) {
      out.set(c, p);
      p += c.length;
    }
    return out;
  }
}

/**
 * Writes a capture to a file with synchronous writes, so every record is on
 * disk (in the OS cache) when `write` returns and a crash loses nothing already written.
 * The file is created or truncated on construction.
 */
export class FilePcapSink implements PcapSink {
  private fd: number | undefined;

  /** The file being written. */
  readonly path: string;

  /**
   * @param path the file to write (created or truncated).
   * @throws InvalidOptionsError (field `path`) when `path` is not a non-empty string.
   * @throws the `fs` error (ENOENT, EACCES, ...) when the file cannot be opened.
   */
  constructor(path: string) {
    this.path = parseOptions(filePathSchema, { path }, 'FilePcapSink').path;
    this.fd = openSync(this.path, 'w');
  }

  /** Appends `chunk` to the file. @throws PcapClosedError when the sink is closed; the `fs` error on a failed write. */
  write(chunk: Uint8Array): void {
    if (this.fd === undefined) throw new PcapClosedError(`pcap file sink ${this.path}`);
    let done = 0;
    while (done < chunk.length) done += writeSync(this.fd, chunk, done, chunk.length - done);
  }

  /** Closes the file descriptor; later calls do nothing. */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
