/*
 * net/symbols.ts: every internal symbol shared between files of the net layer, and with the layers
 * above (packet, room, cluster, metrics), in one place (as undici's core/symbols.js). Internal calls
 * are symbol-keyed so that no name is taken from game code: a Session subclass may name its own
 * methods anything (`flush`, `close`) without taking over the library's. A symbol used by one file
 * only stays in that file, as a module-private const. Imports nothing of net/; any file may import it.
 */

// The service and its sessions (Service, Connection).

/** Internal: attaches a connected transport to a fresh session. */
export const kAttach: unique symbol = Symbol('gamewire.attach');
/** Internal: begins a graceful close with the given cause. */
export const kClose: unique symbol = Symbol('gamewire.close');
/** Internal: destroys the transport at once, keeping the recorded cause. */
export const kDestroy: unique symbol = Symbol('gamewire.destroy');
/** Internal: a session tells its owner it has closed (after its onDisconnected ran). */
export const kSessionClosed: unique symbol = Symbol('gamewire.sessionClosed');
/** Internal: registers a function called once after `onDisconnected` (used by Room to drop members). */
export const kAddCloseListener: unique symbol = Symbol('gamewire.addCloseListener');
/** Internal: removes a function registered with {@link kAddCloseListener}. */
export const kRemoveCloseListener: unique symbol = Symbol('gamewire.removeCloseListener');

// What the connection core offers the Session layer and those above it.

/** Internal: the session's owner (the service), once attached. */
export const kHost: unique symbol = Symbol('gamewire.host');
/** Internal: the settings the owner gave, once attached. */
export const kSettings: unique symbol = Symbol('gamewire.settings');
/** Internal: queues bytes for the peer (a view, or a range of a buffer); false once closing or cut off. */
export const kEnqueue: unique symbol = Symbol('gamewire.enqueue');
/** Internal: ends the connection with a typed error (its `disconnectCode`). */
export const kEndWith: unique symbol = Symbol('gamewire.endWith');
/** Internal: the logger with the connection's `sessionId`, `remote` and `transport` bound, made on first use. */
export const kContextLogger: unique symbol = Symbol('gamewire.contextLogger');
/** Internal: a session's TrafficCounters, symbol-keyed so only the library counts into them. */
export const kTraffic: unique symbol = Symbol('gamewire.traffic');

// Upcalls of the connection core to the Session layer (the hooks), and of Session to PacketSession.

/** Internal: the session opened (onConnected). */
export const kOpened: unique symbol = Symbol('gamewire.opened');
/** Internal: presents a view to onRecv; returns the consumed count or -1 when the hook failed. */
export const kDeliver: unique symbol = Symbol('gamewire.deliver');
/** Internal: a write of this many bytes completed (onSend). */
export const kWritten: unique symbol = Symbol('gamewire.written');
/** Internal: writability changed (onWritableChanged). */
export const kWritableChanged: unique symbol = Symbol('gamewire.writableChanged');
/** Internal: the connection closed with this cause (onDisconnected). */
export const kClosed: unique symbol = Symbol('gamewire.closed');
/** Internal: called once when the session opens, before onConnected (PacketSession starts heartbeats). */
export const kOnOpen: unique symbol = Symbol('gamewire.onOpen');
/** Internal: queues `length` bytes of `buffer` at `offset` for the peer, like `send`, without a view. */
export const kSendRange: unique symbol = Symbol('gamewire.sendRange');
export { kWatchHook } from '../core/watch-hook.js';

// What a transport calls on its connection (TransportSink, transport/transport.ts).

/** Internal: bytes arrived. */
export const kTransportData: unique symbol = Symbol('gamewire.transportData');
/** Internal: the peer ended its side. */
export const kTransportEnd: unique symbol = Symbol('gamewire.transportEnd');
/** Internal: a transport error; kTransportClosed follows. */
export const kTransportError: unique symbol = Symbol('gamewire.transportError');
/** Internal: the transport is fully closed. */
export const kTransportClosed: unique symbol = Symbol('gamewire.transportClosed');
/** Internal: one write was handed to the kernel (or failed). */
export const kTransportWritten: unique symbol = Symbol('gamewire.transportWritten');
/** Internal (resume, net/resume/): the transport lost its connection and keeps the session suspended. */
export const kTransportSuspended: unique symbol = Symbol('gamewire.transportSuspended');
/** Internal (resume transport): writes the connection handed its transport and awaits the completion of. */
export const kWritesInFlight: unique symbol = Symbol('gamewire.writesInFlight');
/** Internal (resume transport): true while the connection has a flush coming this turn (a write will follow). */
export const kFlushPending: unique symbol = Symbol('gamewire.flushPending');
/** Internal (resume): a new connection carries the suspended session again. */
export const kTransportResumed: unique symbol = Symbol('gamewire.transportResumed');

// Resume (docs/resume.md): upcalls to the hooks, and resume packets from PacketSession.

/** Internal: a resumable session's connection dropped; it is suspended (onConnectionLost). */
export const kConnectionLost: unique symbol = Symbol('gamewire.connectionLost');
/** Internal: a client session waits before reconnect attempt n (onReconnecting). */
export const kReconnecting: unique symbol = Symbol('gamewire.reconnecting');
/** Internal: a suspended session's client is back (onResumed). */
export const kResumed: unique symbol = Symbol('gamewire.resumed');
/** Internal (PacketSession): a resume packet (ids 65520..65533) arrived; the transport handles it. */
export const kControlPacket: unique symbol = Symbol('gamewire.controlPacket');

// What the read loop and the flush scheduler call on the connection (connection/).

/** Internal: presents a view to onRecv; returns the consumed count, or -1 once the connection stopped. */
export const kDeliverView: unique symbol = Symbol('gamewire.deliverView');
/** Internal: the RecvBuffer is full and onRecv consumed nothing (`RECV_BUFFER_OVERFLOW`). */
export const kRecvOverflow: unique symbol = Symbol('gamewire.recvOverflow');
/** Internal: flushes a connection's send queue. */
export const kFlush: unique symbol = Symbol('gamewire.flush');

// What the limits call on the connection (limits/).

/** Internal: tells a session paused by its read budget that a new turn began. */
export const kBudgetResume: unique symbol = Symbol('gamewire.budgetResume');
/** Internal: one tick of the idle watch. */
export const kIdleTick: unique symbol = Symbol('gamewire.idleTick');
/**
 * Internal: the peer has been silent for a quarter to half of the idle timeout; make it answer. A
 * PacketSession sends a heartbeat ping; a plain Session (a raw byte stream) has nothing to send.
 */
export const kKeepalive: unique symbol = Symbol('gamewire.keepalive');
/** Internal: a session's fan-out flow state, made on first use. */
export const kFlowState: unique symbol = Symbol('gamewire.flowState');
/** Internal: pauses (true) or resumes (false) a session's reading for fan-out flow control. */
export const kFanoutPaused: unique symbol = Symbol('gamewire.fanoutPaused');
/** Internal: bytes queued for the peer now (in gamewire and in the transport). */
export const kPendingBytes: unique symbol = Symbol('gamewire.pendingBytes');
/**
 * Internal (send-pressure.ts): a count of the bytes the peer has taken so far (handed to the kernel
 * where the transport can tell, else bytes of completed writes). Only its growth matters.
 */
export const kTakenBytes: unique symbol = Symbol('gamewire.takenBytes');
/** Internal: writability changed (the connection resumes its own reading when writable, runs the hook). */
export const kWritabilityChanged: unique symbol = Symbol('gamewire.writabilityChanged');
/** Internal: its own reads fill its queue: stop reading until it is writable again. */
export const kPauseOwnReading: unique symbol = Symbol('gamewire.pauseOwnReading');
/** Internal: the peer does not read: drop what is queued and destroy with `cause`. */
export const kCutOff: unique symbol = Symbol('gamewire.cutOff');

// Sessions that move to another process (net/resume/session-move.ts).
/** Connection: the transport carrying it (the resume transport of a resumable session), or undefined. */
export const kTransportOf: unique symbol = Symbol('gamewire.transportOf');
/** Connection: attaches a moved-in session's transport, leaving the session suspended (no onConnected). */
export const kAttachMoved: unique symbol = Symbol('gamewire.attachMoved');
/** Connection: takes the id of the session it continues (before it is attached). */
export const kTakeId: unique symbol = Symbol('gamewire.takeId');
/** ServerService: the session of `id` leaves this process (its state, MOVE to its client). */
export const kMoveOut: unique symbol = Symbol('gamewire.moveOut');
/** ServerService: reserves a resume key (and token) for a session about to move in. */
export const kReserveMove: unique symbol = Symbol('gamewire.reserveMove');
/** ServerService: makes a moved session here, suspended until its client resumes. */
export const kMoveIn: unique symbol = Symbol('gamewire.moveIn');
/** ServerService: releases a reservation whose session never came. */
export const kCancelMove: unique symbol = Symbol('gamewire.cancelMove');
/** Internal (ServerService): stops accepting new connections, the sessions going on (a rolling reload's old workers). */
export const kStopAccepting: unique symbol = Symbol('gamewire.stopAccepting');
