/**
 * Internal: `peer[kWatchHook](hook, result)` watches what a hook of game code returned: if it is a
 * promise, its rejection ends the session with HANDLER_ERROR (Session implements it; PacketSession and
 * handler tables call it). In `core` so that the packet runtime, which browsers load too, need not
 * import the net layer.
 */
export const kWatchHook: unique symbol = Symbol('gamewire.watchHook');
