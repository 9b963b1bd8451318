import { describe, expect, test } from 'bun:test';
import { InvalidArgumentError } from '../../core/errors.ts';
import { compileHostPolicy, isLoopback } from './host-policy.ts';

describe('compileHostPolicy', () => {
  test('bound to loopback, only loopback names and addresses are answered', () => {
    for (const listenHostname of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.0.0.2']) {
      const policy = compileHostPolicy({ listenHostname })!;
      for (const host of ['localhost', 'LOCALHOST', 'app.localhost', '127.0.0.1', '127.1.2.3', '[::1]', 'localhost.']) {
        expect({ listenHostname, host, allowed: policy.allows(host) }).toEqual({ listenHostname, host, allowed: true });
      }
      for (const host of [
        'rebind.evil.example',
        '10.0.0.1',
        '127.0.0.1.evil.example',
        'localhost.evil.example',
        '[::2]',
      ]) {
        expect({ listenHostname, host, allowed: policy.allows(host) }).toEqual({
          listenHostname,
          host,
          allowed: false,
        });
      }
    }
  });

  test('allowedHosts adds exact names, and whole domains with a leading dot', () => {
    const policy = compileHostPolicy({ listenHostname: '127.0.0.1', allowedHosts: ['Weft.Internal', '.example.com'] })!;
    expect(policy.allows('weft.internal')).toBe(true);
    expect(policy.allows('example.com')).toBe(true);
    expect(policy.allows('api.example.com')).toBe(true);
    expect(policy.allows('notexample.com')).toBe(false);
    expect(policy.allows('other.internal')).toBe(false);
    expect(policy.allows('localhost')).toBe(true);
  });

  test('bound to every interface, every Host is answered unless allowedHosts is given', () => {
    expect(compileHostPolicy({ listenHostname: '0.0.0.0' })).toBeUndefined();
    expect(compileHostPolicy({ listenHostname: '192.168.1.10' })).toBeUndefined();
    expect(compileHostPolicy({})).toBeUndefined();
    const policy = compileHostPolicy({ listenHostname: '192.168.1.10', allowedHosts: ['weft.lan'] })!;
    expect(policy.allows('weft.lan')).toBe(true);
    expect(policy.allows('192.168.1.10')).toBe(true);
    expect(policy.allows('127.0.0.1')).toBe(true);
    expect(policy.allows('evil.example')).toBe(false);
  });

  test('an entry that is not a host name throws InvalidArgumentError', () => {
    for (const entry of ['http://weft.internal', 'weft.internal:3000', 'a b', '', 'weft.internal/path', 42]) {
      expect(() => compileHostPolicy({ allowedHosts: [entry as string] })).toThrow(InvalidArgumentError);
    }
    expect(() => compileHostPolicy({ allowedHosts: 'weft.internal' as unknown as string[] })).toThrow(
      InvalidArgumentError,
    );
  });
});

test('isLoopback knows the loopback names and addresses', () => {
  for (const name of ['localhost', 'a.localhost', '127.0.0.1', '127.255.0.9', '::1', '[::1]', '::ffff:127.0.0.1']) {
    expect({ name, loopback: isLoopback(name) }).toEqual({ name, loopback: true });
  }
  for (const name of ['0.0.0.0', '::', '10.0.0.1', 'localhost.example', '128.0.0.1']) {
    expect({ name, loopback: isLoopback(name) }).toEqual({ name, loopback: false });
  }
});
