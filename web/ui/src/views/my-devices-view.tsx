import { useEffect, useState } from 'preact/hooks';
import { listAlerts } from '../api/alerts';
import { myConsumption } from '../api/consumption';
import { listMyDevices } from '../api/devices';
import { describeError } from '../api/form-errors';
import type { MyDay } from '../api/types';
import { alertBus } from '../alerts';
import { ListStatus } from '../components/list-status';
import { Pagination } from '../components/pagination';
import { todayUtc } from '../consumption/period';
import { pageParam, usePagedList } from '../hooks/use-paged-list';
import { useObservable } from '../lib/use-observable';
import { recovered } from '../live';
import { currentLocation } from '../router/location';
import { DeviceCard, type DeviceToday } from './device-card';

const PER_PAGE = 24;
/** Today's figures are fetched again this often while the page is open. */
const TODAY_REFRESH_MS = 5 * 60_000;

interface Today {
  day: MyDay | null;
  /** Unacknowledged alerts about today's hours, per device id. */
  openAlerts: Map<string, number>;
  error: string | null;
}

/** Today's consumption of every device and its open alerts; again on each live alert. */
function useToday(): Today {
  const [today, setToday] = useState<Today>({ day: null, openAlerts: new Map(), error: null });
  const [version, setVersion] = useState(0);
  const recoveries = useObservable(recovered);

  useEffect(() => {
    const reload = () => setVersion((value) => value + 1);
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, TODAY_REFRESH_MS);
    const stop = alertBus.subscribe(reload);
    return () => {
      clearInterval(timer);
      stop();
    };
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    const date = todayUtc();
    Promise.all([
      myConsumption(date, controller.signal),
      listAlerts({ acknowledged: false, from: `${date}T00:00:00Z`, per_page: 100 }, controller.signal),
    ]).then(
      ([day, alerts]) => {
        const openAlerts = new Map<string, number>();
        for (const alert of alerts.items) openAlerts.set(alert.device_id, (openAlerts.get(alert.device_id) ?? 0) + 1);
        setToday({ day, openAlerts, error: null });
      },
      (failure: unknown) => {
        if (controller.signal.aborted) return;
        setToday((current) => ({ ...current, error: describeError(failure) }));
      },
    );
    return () => controller.abort();
  }, [version, recoveries]);

  return today;
}

/** A customer's devices, as cards with today's consumption against each limit. */
export default function MyDevicesView() {
  const page = pageParam(useObservable(currentLocation).query);
  const list = usePagedList((signal) => listMyDevices({ page, per_page: PER_PAGE }, signal), String(page));
  const today = useToday();

  function todayOf(deviceId: string): DeviceToday | null {
    if (!today.day) return null;
    return {
      day: today.day.devices.find((device) => device.device_id === deviceId) ?? null,
      openAlerts: today.openAlerts.get(deviceId) ?? 0,
    };
  }

  return (
    <div aria-busy={list.loading}>
      <ListStatus
        list={list}
        empty="No devices are assigned to you yet. When an administrator assigns one, it shows here."
      />
      {today.error && list.page && list.page.total > 0 && (
        <p class="form-error">Today’s consumption could not be loaded. {today.error}</p>
      )}
      {list.page && list.page.items.length > 0 && (
        <>
          <div class="card-grid">
            {list.page.items.map((device) => (
              <DeviceCard key={device.id} device={device} today={todayOf(device.id)} />
            ))}
          </div>
          <Pagination page={list.page} noun={{ one: 'device', many: 'devices' }} />
        </>
      )}
    </div>
  );
}
