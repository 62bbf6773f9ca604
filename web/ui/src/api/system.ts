import { api } from '../services';
import type { Replica } from './types';

export type { Replica };

export const listReplicas = (signal?: AbortSignal) => api<Replica[]>('/api/system/replicas', { signal });
