import { useEffect, useState } from 'preact/hooks';
import { acknowledgeAlerts, listIncidents } from '../api/alerts';
import { myConsumption } from '../api/consumption';
import { listMyDevices, setForecastAlerts, snoozeDevice } from '../api/devices';
import { describeError } from '../api/form-errors';
import type { Device, MyDay } from '../api/types';
import { alertBadge, alertBus } from '../alerts';
import type { SnoozeChoice } from '../alerts/describe';
import { countByDevice, recentSince, snoozeUntil } from '../alerts/describe';
import { ListStatus } from '../components/list-status';
import { Pagination } from '../components/pagination';
import { todayIn } from '../consumption/period';
import { pageParam, usePagedList } from '../hooks/use-paged-list';
import { timeZone } from '../format/format';
import { useObservable } from '../lib/use-observable';
import { recovered } from '../live';
import { currentLocation } from '../router/location';
import { DeviceCard, type DeviceToday } from './device-card';

const PER_PAGE = 24;
/** Today's figures are fetched again this often while the page is open. */
const TODAY_REFRESH_MS = 5 * 60_000;

interface Today {
  day: MyDay | null;
  /** Open incidents about the last 24 hours, per device id. */
  openIncidents: Map<string, number>;
  error: string | null;
}

/** Today's consumption of every device and its recent open incidents; again on each live alert. */
function useToday(version: number, reload: () => void): Today {
  const [today, setToday] = useState<Today>({ day: null, openIncidents: new Map(), error: null });
  const recoveries = useObservable(recovered);

  useEffect(() => {
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
    const date = todayIn();
    Promise.all([
      myConsumption(date, controller.signal),
      listIncidents({ acknowledged: false, from: recentSince(), per_page: 100 }, controller.signal),
    ]).then(
      ([day, incidents]) => {
        setToday({ day, openIncidents: countByDevice(incidents.items), error: null });
      },
      (failure: unknown) => {
        if (controller.signal.aborted) return;
        setToday((current) => ({ ...current, error: describeError(failure) }));
      },
    );
    return () => controller.abort();
  }, [version, timeZone(), recoveries]);

  return today;
}

/** A customer's devices, as cards with their last reading and today's consumption against each limit. */
export default function MyDevicesView() {
  const page = pageParam(useObservable(currentLocation).query);
  const [version, setVersion] = useState(0);
  const reload = () => setVersion((value) => value + 1);
  // The list loads again with today's figures, so that the devices' last readings stay current.
  const list = usePagedList(
    (signal) => listMyDevices({ page, per_page: PER_PAGE }, signal),
    JSON.stringify([page, version]),
  );
  const today = useToday(version, reload);
  const [failure, setFailure] = useState<string | null>(null);

  function todayOf(deviceId: string): DeviceToday | null {
    if (!today.day) return null;
    return {
      day: today.day.devices.find((device) => device.device_id === deviceId) ?? null,
      openIncidents: today.openIncidents.get(deviceId) ?? 0,
    };
  }

  async function acknowledgeDevice(device: Device) {
    setFailure(null);
    try {
      await acknowledgeAlerts({ device_id: device.id });
      alertBadge.acknowledged(today.openIncidents.get(device.id) ?? 0);
      void alertBadge.refresh();
      reload();
    } catch (error) {
      setFailure(`The alerts of ${device.name} could not be acknowledged. ${describeError(error)}`);
    }
  }

  async function snooze(device: Device, choice: SnoozeChoice | null) {
    setFailure(null);
    try {
      await snoozeDevice(device.id, choice === null ? null : snoozeUntil(choice));
      list.reload();
    } catch (error) {
      setFailure(`${device.name} could not be ${choice === null ? 'woken' : 'snoozed'}. ${describeError(error)}`);
    }
  }

  async function forecastAlerts(device: Device, enabled: boolean) {
    setFailure(null);
    try {
      await setForecastAlerts(device.id, enabled);
      list.reload();
    } catch (error) {
      setFailure(
        `Early warnings of ${device.name} could not be turned ${enabled ? 'on' : 'off'}. ${describeError(error)}`,
      );
      // The card's switch goes back to what is stored.
      throw error;
    }
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
      {failure && <p class="form-error">{failure}</p>}
      {list.page && list.page.items.length > 0 && (
        <>
          <div class="card-grid">
            {list.page.items.map((device) => (
              <DeviceCard
                key={device.id}
                device={device}
                today={todayOf(device.id)}
                onAcknowledge={() => acknowledgeDevice(device)}
                onSnooze={(choice) => snooze(device, choice)}
                onForecastAlerts={(enabled) => forecastAlerts(device, enabled)}
                hourStarts={today.day?.hour_starts}
              />
            ))}
          </div>
          <Pagination page={list.page} noun={{ one: 'device', many: 'devices' }} />
        </>
      )}
    </div>
  );
}
