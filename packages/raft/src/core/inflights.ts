/**
 * The window of MsgApp messages a leader has sent to one follower and not yet
 * seen acknowledged (etcd's tracker.Inflights). Each entry is the last index a
 * message carried and its payload size; the window is full when either the
 * message count or the byte budget is reached.
 */
export class Inflights {
  private readonly indexes: number[] = [];
  private readonly sizes: number[] = [];
  private head = 0;
  private bytes = 0;

  /**
   * @param maxCount most messages in flight (>= 1)
   * @param maxBytes most payload bytes in flight; 0 means no byte limit
   */
  constructor(
    readonly maxCount: number,
    readonly maxBytes = 0,
  ) {}

  /** Number of messages in flight. */
  get count(): number {
    return this.indexes.length - this.head;
  }

  /** Records a message whose last entry is `index` carrying `size` bytes. */
  add(index: number, size: number): void {
    this.indexes.push(index);
    this.sizes.push(size);
    this.bytes += size;
  }

  /** Frees every message whose last index is <= `index` (acknowledged). */
  freeLE(index: number): void {
    while (this.head < this.indexes.length && (this.indexes[this.head] as number) <= index) {
      this.bytes -= this.sizes[this.head] as number;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.indexes.length) {
      this.indexes.splice(0, this.head);
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
  }

  /** True when no more messages may be sent. */
  full(): boolean {
    return this.count >= this.maxCount || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  /** Forgets everything in flight. */
  reset(): void {
    this.indexes.length = 0;
    this.sizes.length = 0;
    this.head = 0;
    this.bytes = 0;
  }
}
