import type { DisconnectCause } from '../../core/disconnect-cause.js';
import { ResumeTransport } from './resume-transport.js';
import type { TransportLink } from './transport-link.js';

/**
 * A plain (not resumable) session of a resume-enabled server: its connection was read by the gate
 * before the session was made, so it reaches the session through this forwarding transport. It keeps
 * nothing, and a loss is a close, as on any server.
 */
export class PlainTransport extends ResumeTransport {
  constructor(link: TransportLink) {
    super(link, false);
  }

  get resumable(): boolean {
    return false;
  }

  protected get maxReplayBytes(): number {
    return 0;
  }

  protected opened(): void {}

  protected lost(cause: DisconnectCause): void {
    void cause;
  }

  protected closed(): void {}

  protected otherControl(id: number, body: Buffer): void {
    void id;
    void body;
  }

  protected onBye(body: Buffer): void {
    void body;
  }
}
