// Administrators' view of the monitor replicas: weight, liveness, throughput and ingest queue,
// asked for every 2 seconds while the page is in view.
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../../api/form-errors';
import { listReplicas, type Replica } from '../../api/system';
import { DataTable } from '../../components/data-table';
import { plural } from '../../format/format';

const POLL_MS = 2_000;

function secondsAgo(seconds: number): string {
  if (seconds < 1) return 'just now';
  return `${plural(Math.round(seconds), 'second')} ago`;
}

export default function SystemView() {
  const [replicas, setReplicas] = useState<Replica[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let controller: AbortController | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    async function poll() {
      clearTimeout(timer);
      if (stopped) return;
      if (document.visibilityState === 'visible') {
        controller = new AbortController();
        try {
          setReplicas(await listReplicas(controller.signal));
          setError(null);
        } catch (failure) {
          if (controller.signal.aborted) return;
          setError(describeError(failure));
        }
      }
      if (!stopped) timer = setTimeout(() => void poll(), POLL_MS);
    }
    const onVisible = () => {
      if (document.visibilityState === 'visible') void poll();
    };
    void poll();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller?.abort();
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, []);

  const live = replicas?.filter((replica) => replica.live).length ?? 0;

  return (
    <section aria-labelledby="replicas-title">
      <h2 id="replicas-title">Monitor replicas</h2>
      <p>
        Each replica stores readings and raises alerts; the balancer shares the readings by weight. Updated every 2
        seconds.
      </p>
      {error && (
        <p class="form-error" role="alert">
          The replicas could not be loaded. {error}
        </p>
      )}
      {!replicas && !error && <p class="loading">Loading replicas…</p>}
      {replicas && replicas.length === 0 && <p>No replica has reported yet. They send a heartbeat every second.</p>}
      {replicas && replicas.length > 0 && (
        <>
          <p class="list-count" aria-live="polite">
            {live} of {plural(replicas.length, 'replica')} live
          </p>
          <DataTable
            caption="Monitor replicas"
            class="replicas-table"
            items={replicas}
            rowKey={(replica) => replica.replica}
            columns={[
              { label: 'Replica', cell: (replica) => `Monitor ${replica.replica}` },
              {
                label: 'Status',
                cell: (replica) => (
                  <span class={`status-tag status-tag--${replica.live ? 'live' : 'down'}`}>
                    {replica.live ? 'Live' : 'Not heard from'}
                  </span>
                ),
              },
              { label: 'Weight', cell: (replica) => replica.weight },
              { label: 'Readings/s', cell: (replica) => replica.readings_per_second.toFixed(1) },
              { label: 'Queue depth', cell: (replica) => replica.queue_depth ?? 'unknown' },
              { label: 'Processed', cell: (replica) => replica.processed.toLocaleString() },
              { label: 'Last seen', cell: (replica) => secondsAgo(replica.last_seen_seconds_ago) },
            ]}
          />
        </>
      )}
    </section>
  );
}
