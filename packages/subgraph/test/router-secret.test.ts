import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { clientAddress } from '../src/router-secret.js';

const SECRET = 'router-secret-for-the-test';
const request = (headers: Record<string, string>) => ({ headers, ip: '10.0.0.7' }) as unknown as FastifyRequest;

describe('clientAddress', () => {
  it("takes the router's x-client-ip from a caller holding the router's secret", () => {
    expect(clientAddress(request({ 'x-router-secret': SECRET, 'x-client-ip': '203.0.113.5' }), SECRET)).toBe('203.0.113.5');
  });

  it('ignores x-client-ip without the secret, with a wrong one, or when no secret is set: the socket address counts', () => {
    expect(clientAddress(request({ 'x-client-ip': '203.0.113.5' }), SECRET)).toBe('10.0.0.7');
    expect(clientAddress(request({ 'x-router-secret': 'guess', 'x-client-ip': '203.0.113.5' }), SECRET)).toBe('10.0.0.7');
    expect(clientAddress(request({ 'x-router-secret': SECRET, 'x-client-ip': '203.0.113.5' }), undefined)).toBe('10.0.0.7');
  });

  it('uses the socket address when the router sent none, and bounds what it keeps', () => {
    expect(clientAddress(request({ 'x-router-secret': SECRET }), SECRET)).toBe('10.0.0.7');
    expect(clientAddress(request({ 'x-router-secret': SECRET, 'x-client-ip': 'x'.repeat(500) }), SECRET)).toHaveLength(64);
  });
});
