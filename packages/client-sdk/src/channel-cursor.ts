/** Where a client stands in one channel's stream: the last offset it delivered, in which epoch. */
export interface StreamPosition {
  readonly offset: bigint;
  readonly epoch: string;
}

/**
 * The bookkeeping that makes delivery exactly-once per channel across reconnects: a publication
 * at or before the last delivered offset of the same epoch is a duplicate (a recovered one the
 * live stream already brought, or the other way round) and is dropped. A new epoch means the
 * server lost the channel's history; offsets start over there, once the subscription has read the
 * channel again and heard `recovered: false`.
 */
export class ChannelCursor {
  #position: StreamPosition | undefined;

  constructor(position?: StreamPosition) {
    this.#position = position;
  }

  /** What a recovering Subscribe sends as `since`; undefined before anything was seen. */
  get position(): StreamPosition | undefined {
    return this.#position;
  }

  /** True when the publication is new and must be delivered; the cursor then stands on it. */
  advance(offset: bigint, epoch: string): boolean {
    const current = this.#position;
    if (current && current.epoch === epoch && offset <= current.offset) return false;
    this.#position = { offset, epoch };
    return true;
  }

  /**
   * True when the publication lies past the next one of the cursor's epoch: one went missing on
   * its way here (a broker that dropped it), so the channel must be read again from the cursor.
   */
  skips(offset: bigint, epoch: string): boolean {
    const current = this.#position;
    return current !== undefined && current.epoch === epoch && offset > current.offset + 1n;
  }

  /**
   * True when the publication is of another epoch than the cursor's: the server lost the channel's
   * history (a Redis restarted empty, a channel idle past its TTL), so whatever was published there
   * between the cursor and this publication may be gone, and nothing says so but the new epoch.
   */
  leaves(epoch: string): boolean {
    return this.#position !== undefined && this.#position.epoch !== epoch;
  }

  /**
   * The server's position for the channel when a subscription was confirmed. The cursor moves
   * there unless it already stands further in the same epoch (never with a correct server).
   */
  settle(position: StreamPosition): void {
    const current = this.#position;
    if (current && current.epoch === position.epoch && current.offset >= position.offset) return;
    this.#position = position;
  }
}
