import type { Role } from '../../api/types';

export const ROLE_LABELS: Record<Role, string> = { client: 'Customer', admin: 'Administrator' };

export const ROLE_OPTIONS = (Object.keys(ROLE_LABELS) as Role[]).map((value) => ({ value, label: ROLE_LABELS[value] }));

export function roleParam(value: string | null): Role | undefined {
  return value === 'admin' || value === 'client' ? value : undefined;
}
