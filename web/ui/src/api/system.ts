import { api } from '../services';

export interface Replica {
  replica: number;
  weight: number;
  live: boolean;
  processed: number;
  readings_per_second: number;
  queue_depth: number | null;
  last_seen_seconds_ago: number;
}

export const listReplicas = (signal?: AbortSignal) => api<Replica[]>('/api/system/replicas', { signal });
