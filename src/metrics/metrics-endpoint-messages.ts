/**
 * Internal: the messages between `serveMetrics` (the game's thread) and its HTTP thread
 * (`metrics-endpoint-thread.ts`). Types only.
 */

/** `workerData` of the HTTP thread. */
export interface EndpointConfig {
  readonly host: string;
  readonly port: number;
}

/** A path the HTTP thread cannot answer alone: the game's thread has the series and the health. */
export type EndpointPath = '/metrics' | '/healthz';

/** From the HTTP thread. */
export type FromEndpoint =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'listen-error'; readonly code: string | undefined; readonly message: string }
  | { readonly type: 'request'; readonly id: number; readonly path: EndpointPath }
  | { readonly type: 'error'; readonly message: string };

/** To the HTTP thread. */
export type ToEndpoint =
  | { readonly type: 'reply'; readonly id: number; readonly status: number; readonly contentType: string; readonly body: string }
  | { readonly type: 'close' };
