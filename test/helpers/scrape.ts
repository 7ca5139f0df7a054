/** Reads Prometheus text from a metrics endpoint or a registry, for tests. */
import { get } from 'node:http';
import { DEFAULT_TIMEOUT_MS } from './wait.js';

/** An HTTP GET on loopback: status, content type and body. */
export function httpGet(port: number, path: string): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    const request = get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          contentType: String(response.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

/** The samples of a Prometheus text: `name{labels}` exactly as printed → value. */
export function parseSamples(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** The metric names that have samples (histograms show as `x_bucket`, `x_sum`, `x_count`). */
export function sampleNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const key of parseSamples(text).keys()) names.add(key.replace(/\{.*$/, ''));
  return names;
}

/** `name{labels}` with the labels in the order given, as prom-client prints them. */
export function sampleKey(name: string, labels: Readonly<Record<string, string>> = {}): string {
  const parts = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  return parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
}

/** Scrapes `/metrics` and returns its samples. */
export async function scrape(port: number): Promise<Map<string, number>> {
  const { status, body } = await httpGet(port, '/metrics');
  if (status !== 200) throw new Error(`/metrics answered ${status}: ${body}`);
  return parseSamples(body);
}

/**
 * Scrapes until `check(value)` holds for the sample `key` (the server's state is only visible
 * through a scrape, so this re-reads it until it matches, and fails after `timeoutMs`).
 */
export async function waitForSample(
  read: () => Promise<Map<string, number>>,
  key: string,
  check: (value: number) => boolean,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = (await read()).get(key);
    if (value !== undefined && check(value)) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${key}: last value ${value}`);
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
  }
}
