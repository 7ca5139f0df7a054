/**
 * The version of everything gamewire sends between its processes: room frames over Redis pub/sub and
 * the IPC messages between the cluster primary and its workers (docs/cluster.md, "Versions").
 *
 * Every message carries two numbers: the protocol version of the release that wrote it, and the
 * oldest protocol version that can read it. A release reads a message when the message is not older
 * than what it still reads ({@link OLDEST_READ_VERSION}) and says that this release is new enough
 * (its oldest reader is at most {@link PROTOCOL_VERSION}). A release that changes the format keeps
 * writing what the previous version reads (a field appended, a new kind a reader drops), so two
 * adjacent releases share rooms and a primary during a rolling update; a change the previous
 * release cannot read takes two releases: one that reads both and writes the old, then one that
 * writes the new.
 */

/** The protocol version this release writes. */
export const PROTOCOL_VERSION = 2;

/** The oldest protocol version whose messages this release reads. */
export const OLDEST_READ_VERSION = 1;

/** The oldest protocol version that can read what this release writes (sent with every message). */
export const MIN_READER_VERSION = 1;

/**
 * True when a message written by protocol `version`, readable from protocol `minReader` on, can be
 * read by this release. Both must be integers 0..255 with `minReader <= version`.
 */
export function readableVersion(version: unknown, minReader: unknown): boolean {
  return (
    isByte(version) &&
    isByte(minReader) &&
    minReader <= version &&
    version >= OLDEST_READ_VERSION &&
    minReader <= PROTOCOL_VERSION
  );
}

function isByte(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 255;
}
