import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPath, instanceOrigin, parseBaseUrl } from './target';

describe('request paths', () => {
  it('accepts only paths of printable ASCII starting with a single slash', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (path) => {
        const ok = /^\/(?!\/)[\x21-\x7e]*$/.test(path);
        let accepted: boolean;
        try {
          accepted = checkPath(path, 's') === path;
        } catch {
          accepted = false;
        }
        return accepted === ok;
      }),
      { numRuns: 300 },
    );
  });
});

describe('targets', () => {
  it('takes the origin and path prefix of a base URL', () => {
    expect(parseBaseUrl('http://user-service:3001', 'c')).toMatchObject({
      origin: 'http://user-service:3001',
      prefix: '',
    });
    expect(parseBaseUrl('https://a.example/api/v1/', 'c')).toMatchObject({
      origin: 'https://a.example',
      prefix: '/api/v1',
    });
  });

  it('brackets an IPv6 host and refuses an unusable instance', () => {
    expect(instanceOrigin({ host: '::1', port: 8080 }, 's')).toBe('http://[::1]:8080');
    expect(instanceOrigin({ host: 'h', port: 1, metadata: { scheme: 'https' } }, 's')).toBe('https://h:1');
    expect(() => instanceOrigin({ host: '', port: 80 }, 'svc')).toThrow(/svc/);
    expect(() => instanceOrigin({ host: 'h', port: 0 }, 'svc')).toThrow(/svc/);
  });
});
