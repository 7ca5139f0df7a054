/** A self-signed certificate for localhost / 127.0.0.1, made with the openssl CLI at test time. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A PEM key and certificate, and where they were written. */
export interface Pem {
  readonly key: Buffer;
  readonly cert: Buffer;
  readonly keyFile: string;
  readonly certFile: string;
}

/** Makes a self-signed certificate for localhost / 127.0.0.1; a string says why it could not. */
export function makeCertificate(dir: string): Pem | string {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch (error) {
    return `openssl CLI not available (${(error as Error).message}); TLS tests skipped`;
  }
  const keyFile = join(dir, 'k.pem');
  const certFile = join(dir, 'c.pem');
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), keyFile, certFile };
}

