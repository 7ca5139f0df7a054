import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const CLIENT_ENTRY = fileURLToPath(new URL('../../src/client/index.js', import.meta.url));
const SAMPLE_PACKETS = fileURLToPath(new URL('../../src/samples/protocol/packets.js', import.meta.url));
const SERVER_ENTRY = fileURLToPath(new URL('../../src/index.js', import.meta.url));

/** Bundles `entry` for a browser; esbuild refuses any Node built-in it meets on the way. */
async function bundleForBrowser(entry: string): Promise<{ errors: string[]; inputs: string[] }> {
  try {
    const result = await build({ entryPoints: [entry], bundle: true, write: false, platform: 'browser', format: 'esm', metafile: true, logLevel: 'silent' });
    return { errors: [], inputs: Object.keys(result.metafile.inputs) };
  } catch (error) {
    const failure = error as { errors?: Array<{ text: string }> };
    return { errors: (failure.errors ?? []).map((e) => e.text), inputs: [] };
  }
}

describe('the browser client and generated packets are browser-safe', () => {
  it('gamewire/client bundles for a browser: no Node built-in is reachable', async () => {
    const { errors, inputs } = await bundleForBrowser(CLIENT_ENTRY);
    assert.deepEqual(errors, []);
    assert.ok(!inputs.some((input) => /\/net\/|\/cli\//.test(input)), inputs.join('\n'));
  });

  it('the generated sample packets bundle for a browser', async () => {
    assert.deepEqual((await bundleForBrowser(SAMPLE_PACKETS)).errors, []);
  });

  it('the check can fail: the server entry does not bundle for a browser', async () => {
    const { errors } = await bundleForBrowser(SERVER_ENTRY);
    assert.ok(errors.some((text) => /node:net|node:tls/.test(text)), errors.join('\n'));
  });
});
