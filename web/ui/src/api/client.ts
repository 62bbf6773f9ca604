// Requests on behalf of the signed-in user: adds the access token, and when the server refuses
// it anyway (revoked, or the device slept past its expiry) refreshes once and tries again.
import type { Auth } from '../session/auth';
import { ApiError, type Http, type RequestOptions } from './http';

export type ApiClient = <T>(path: string, options?: Omit<RequestOptions, 'token'>) => Promise<T>;

export function createApiClient(http: Http, auth: Pick<Auth, 'validAccessToken' | 'refresh'>): ApiClient {
  return async function request<T>(path: string, options: Omit<RequestOptions, 'token'> = {}): Promise<T> {
    const token = await auth.validAccessToken();
    if (!token) throw new ApiError(401, 'unauthorized', 'You are not signed in.');
    try {
      return await http<T>(path, { ...options, token });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      const renewed = await auth.refresh(token);
      if (!renewed) throw error;
      return http<T>(path, { ...options, token: renewed.accessToken });
    }
  };
}
