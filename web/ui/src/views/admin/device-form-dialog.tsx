import { createDevice, updateDevice } from '../../api/devices';
import { ApiError } from '../../api/http';
import type { Device, DeviceChanges, NewDevice } from '../../api/types';
import { Dialog, DialogActions } from '../../components/dialog';
import { FormError, TextAreaField, TextField } from '../../components/field';
import { parseKwh } from '../../format/format';
import { useForm } from '../../hooks/use-form';

/** The form's values as the API wants them; a limit that is not a number fails like the API would. */
function toDevice(values: Record<keyof NewDevice, string>): NewDevice {
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
    <Dialog title={device ? `Edit ${device.name}` : 'New device'} onClose={onClose}>
      <form
        ref={form.formRef}
        class="form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void form.submit(save);
        }}
      >
        <FormError message={form.errors.form} />
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
        <DialogActions
          submitLabel={device ? 'Save' : 'Create device'}
          submitting={form.submitting}
          onCancel={onClose}
        />
      </form>
    </Dialog>
  );
}
