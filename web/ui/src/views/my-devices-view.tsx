import { listMyDevices } from '../api/devices';
import { ListStatus } from '../components/list-status';
import { Pagination } from '../components/pagination';
import { pageParam, usePagedList } from '../hooks/use-paged-list';
import { useObservable } from '../lib/use-observable';
import { currentLocation } from '../router/location';
import { DeviceCard } from './device-card';

const PER_PAGE = 24;

/** A customer's devices, as cards. */
export default function MyDevicesView() {
  const page = pageParam(useObservable(currentLocation).query);
  const list = usePagedList((signal) => listMyDevices({ page, per_page: PER_PAGE }, signal), String(page));

  return (
    <div aria-busy={list.loading}>
      <ListStatus
        list={list}
        empty="No devices are assigned to you yet. When an administrator assigns one, it shows here."
      />
      {list.page && list.page.items.length > 0 && (
        <>
          <div class="card-grid">
            {list.page.items.map((device) => (
              <DeviceCard key={device.id} device={device} />
            ))}
          </div>
          <Pagination page={list.page} noun={{ one: 'device', many: 'devices' }} />
        </>
      )}
    </div>
  );
}
