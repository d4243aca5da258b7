import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeCertificates } from './certificates';

describe('makeCertificates', () => {
  it('makes a CA, a localhost server certificate, a client certificate and an impostor, then removes them', () => {
    const certs = makeCertificates();
    try {
      const ca = new X509Certificate(certs.ca);
      const otherCa = new X509Certificate(certs.otherCa);
      expect(ca.ca).toBe(true);
      const server = new X509Certificate(certs.server.cert);
      expect(server.verify(ca.publicKey)).toBe(true);
      expect(server.checkHost('localhost')).toBe('localhost');
      expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(server.checkHost('example.com')).toBeUndefined();
      expect(server.ca).toBe(false);
      const client = new X509Certificate(certs.client.cert);
      expect(client.verify(ca.publicKey)).toBe(true);
      expect(client.subject).toBe('CN=client');
      expect(client.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // clientAuth
      const impostor = new X509Certificate(certs.otherClient.cert);
      expect(impostor.subject).toBe('CN=client');
      expect(impostor.verify(ca.publicKey)).toBe(false);
      expect(impostor.verify(otherCa.publicKey)).toBe(true);
      const issued = certs.issue('orders', { usage: 'server', dns: ['orders.internal'] });
      expect(new X509Certificate(issued.cert).checkHost('orders.internal')).toBe('orders.internal');
      expect(new X509Certificate(issued.cert).checkIP('127.0.0.1')).toBeUndefined();
      expect(existsSync(certs.server.keyFile)).toBe(true);
    } finally {
      certs.remove();
    }
    expect(existsSync(certs.dir)).toBe(false);
  });
});
