import { createDevice, updateDevice } from '../../api/devices';
import { ApiError } from '../../api/http';
import type { Device, DeviceChanges, NewDevice } from '../../api/types';
import { TextAreaField, TextField } from '../../components/field';
import { FormDialog } from '../../components/form-dialog';
import { parseKwh } from '../../format/format';
import { useForm } from '../../hooks/use-form';

/** What the form edits; the owner is set with the assign dialog instead. */
type DeviceFields = Required<Pick<NewDevice, 'name' | 'location' | 'description' | 'max_hourly_kwh'>>;

/** The form's values as the API wants them; a limit that is not a number fails like the API would. */
function toDevice(values: Record<keyof DeviceFields, string>): DeviceFields {
  const kwh = parseKwh(values.max_hourly_kwh);
  if (kwh === null) {
    throw new ApiError(422, 'validation_failed', 'invalid limit', [
      { field: 'max_hourly_kwh', message: 'enter the limit as a number of kWh, such as 2.5' },
    ]);
  }
  return { name: values.name, location: values.location, description: values.description, max_hourly_kwh: kwh };
}

/** Creates a device (`device` null) or edits one. */
export function DeviceFormDialog({
  device,
  onClose,
  onSaved,
}: {
  device: Device | null;
  onClose: () => void;
  onSaved: (message: string) => void;
}) {
  const form = useForm({
    name: device?.name ?? '',
    location: device?.location ?? '',
    description: device?.description ?? '',
    max_hourly_kwh: device ? String(device.max_hourly_kwh) : '',
  });

  async function save(values: typeof form.values) {
    const wanted = toDevice(values);
    if (!device) {
      const created = await createDevice(wanted);
      onSaved(`Device ${created.name} created.`);
      return;
    }
    const changes: DeviceChanges = {};
    if (wanted.name !== device.name) changes.name = wanted.name;
    if (wanted.location !== device.location) changes.location = wanted.location;
    if (wanted.description !== device.description) changes.description = wanted.description;
    if (wanted.max_hourly_kwh !== device.max_hourly_kwh) changes.max_hourly_kwh = wanted.max_hourly_kwh;
    if (Object.keys(changes).length === 0) {
      onClose();
      return;
    }
    const updated = await updateDevice(device.id, changes);
    onSaved(`Device ${updated.name} saved.`);
  }

  return (
    <FormDialog
      title={device ? `Edit ${device.name}` : 'New device'}
      form={form}
      onSave={save}
      submitLabel={device ? 'Save' : 'Create device'}
      onClose={onClose}
    >
      <TextField field={form.bind('name')} label="Name" autoComplete="off" required />
      <TextField field={form.bind('location')} label="Location" autoComplete="off" />
      <TextAreaField field={form.bind('description')} label="Description" />
      <TextField
        field={form.bind('max_hourly_kwh')}
        label="Hourly limit (kWh)"
        hint="The owner is alerted when the device uses more than this in an hour, e.g. 2.5."
        inputMode="decimal"
        autoComplete="off"
        required
      />
    </FormDialog>
  );
}
