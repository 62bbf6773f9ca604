import { describe, expect, it } from 'vitest';
import { observable } from '../lib/observable';
import type { LiveState } from './client';
import { createRecovery } from './recovery';

function run(states: LiveState[]): number {
  const connection = observable<LiveState>('idle');
  const recovered = createRecovery(connection);
  for (const state of states) connection.set(state);
  return recovered.get();
}

describe('recovery', () => {
  it('does not count the first connection after signing in', () => {
    expect(run(['connecting', 'connected'])).toBe(0);
  });

  it('counts each return after going offline or reconnecting', () => {
    expect(run(['connecting', 'connected', 'offline', 'connecting', 'connected'])).toBe(1);
    expect(run(['connecting', 'connected', 'reconnecting', 'connected', 'offline', 'connected'])).toBe(2);
  });

  it('counts an offline start that comes back', () => {
    expect(run(['offline', 'reconnecting', 'connecting', 'connected'])).toBe(1);
  });

  it('forgets a loss when signing out', () => {
    expect(run(['connecting', 'connected', 'offline', 'idle', 'connecting', 'connected'])).toBe(0);
  });
});
