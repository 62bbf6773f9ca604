// One JSON request to the API, turning every failure (an error body, a proxy's HTML page, no
// network at all) into an ApiError the views can explain.
import type { ErrorBody, FieldError } from './types';

/** The status given to an ApiError when no answer came back at all. */
export const NO_RESPONSE = 0;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[] = [],
    /** From `Retry-After` on a 429. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type QueryValue = string | number | boolean | null | undefined;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, QueryValue>;
  token?: string | null;
  signal?: AbortSignal | undefined;
}

export type Http = <T>(path: string, options?: RequestOptions) => Promise<T>;

export function withQuery(path: string, query: Record<string, QueryValue> = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

export function createHttp(fetchImpl: typeof fetch = (...args) => globalThis.fetch(...args)): Http {
  return async function send<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.token) headers['Authorization'] = `Bearer ${options.token}`;
    let response: Response;
    try {
      response = await fetchImpl(withQuery(path, options.query), {
        method: options.method ?? 'GET',
        headers,
        body: options.body === undefined ? null : JSON.stringify(options.body),
        signal: options.signal ?? null,
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new ApiError(
        NO_RESPONSE,
        'network',
        'The server could not be reached. Check your connection and try again.',
      );
    }
    if (response.status === 204) return undefined as T;
    const body: unknown = await response.json().catch(() => null);
    if (response.ok) return body as T;
    throw toApiError(response, body);
  };
}

function toApiError(response: Response, body: unknown): ApiError {
  const retryAfter = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
  const retryAfterSeconds = Number.isFinite(retryAfter) ? retryAfter : null;
  if (isErrorBody(body)) {
    return new ApiError(response.status, body.code, body.message, body.fields ?? [], retryAfterSeconds);
  }
  // Not EMS's own answer: a proxy or gateway in between failed.
  return new ApiError(
    response.status,
    'http_error',
    `The server answered with an error (HTTP ${response.status}). Try again in a moment.`,
    [],
    retryAfterSeconds,
  );
}

function isErrorBody(body: unknown): body is ErrorBody {
  return typeof body === 'object' && body !== null && 'code' in body && 'message' in body;
}
