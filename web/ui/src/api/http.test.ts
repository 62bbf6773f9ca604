import { describe, expect, it, vi } from 'vitest';
import { jsonResponse } from '../test/fakes';
import { ApiError, createHttp, NO_RESPONSE, withQuery } from './http';

describe('withQuery', () => {
  it('leaves out empty values and encodes the rest', () => {
    expect(withQuery('/api/users', { q: 'ana maria', page: 2, role: undefined, assigned: false, x: '' })).toBe(
      '/api/users?q=ana+maria&page=2&assigned=false',
    );
    expect(withQuery('/api/users', {})).toBe('/api/users');
  });
});

describe('http', () => {
  it('sends JSON with the bearer token and reads JSON back', async () => {
    const fetch = vi.fn(async () => jsonResponse(200, { id: 'x' }));
    const body = await createHttp(fetch)('/api/devices', { method: 'POST', body: { name: 'Oven' }, token: 'abc' });
    expect(body).toEqual({ id: 'x' });
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/devices');
    expect(init.method).toBe('POST');
    expect(init.body).toBe('{"name":"Oven"}');
    expect(init.headers).toMatchObject({ Authorization: 'Bearer abc', 'Content-Type': 'application/json' });
  });

  it('answers nothing for 204', async () => {
    const fetch = vi.fn(async () => jsonResponse(204, null));
    expect(await createHttp(fetch)('/api/devices/1', { method: 'DELETE' })).toBeUndefined();
  });

  it("turns the API's error body into an ApiError with its fields and Retry-After", async () => {
    const body = { code: 'too_many_requests', message: 'too many failed logins', fields: [] };
    const fetch = vi.fn(async () => jsonResponse(429, body, { 'Retry-After': '30' }));
    const error = await createHttp(fetch)('/api/auth/login').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 429, code: 'too_many_requests', retryAfterSeconds: 30, fields: [] });
  });

  it('explains an error page that is not from EMS, such as a proxy failing', async () => {
    const fetch = vi.fn(async () => new Response('<html>Bad gateway</html>', { status: 502 }));
    await expect(createHttp(fetch)('/api/me')).rejects.toMatchObject({ status: 502, code: 'http_error' });
  });

  it('reports an unreachable server as a network error', async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(createHttp(fetch)('/api/me')).rejects.toMatchObject({ status: NO_RESPONSE, code: 'network' });
  });

  it('lets cancellations through untouched', async () => {
    const abort = new DOMException('aborted', 'AbortError');
    const fetch = vi.fn(async () => {
      throw abort;
    });
    await expect(createHttp(fetch)('/api/me')).rejects.toBe(abort);
  });
});
