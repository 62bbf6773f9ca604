import { useEffect, useId, useState } from 'preact/hooks';
import { formErrors } from '../../api/form-errors';
import { getTariff, removeTariff, setTariff } from '../../api/tariffs';
import type { TariffBand, TariffInput, User, Weekday } from '../../api/types';
import { Dialog } from '../../components/dialog';
import { FormError } from '../../components/field';

const DAYS: readonly { day: Weekday; label: string }[] = [
  { day: 'mon', label: 'Mon' },
  { day: 'tue', label: 'Tue' },
  { day: 'wed', label: 'Wed' },
  { day: 'thu', label: 'Thu' },
  { day: 'fri', label: 'Fri' },
  { day: 'sat', label: 'Sat' },
  { day: 'sun', label: 'Sun' },
];
const ALL_DAYS = DAYS.map(({ day }) => day);

interface BandDraft {
  days: Weekday[];
  from: string;
  to: string;
  price: string;
}

/** A day price and a cheaper night, every day: a starting point most time-of-use tariffs resemble. */
function startingBands(price: string): BandDraft[] {
  return [
    { days: [...ALL_DAYS], from: '0', to: '7', price: '' },
    { days: [...ALL_DAYS], from: '7', to: '23', price },
    { days: [...ALL_DAYS], from: '23', to: '24', price: '' },
  ];
}

function toDraft(band: TariffBand): BandDraft {
  return { days: [...band.days], from: String(band.from_hour), to: String(band.to_hour), price: band.price };
}

/** "2,5" as typed on a phone with a decimal comma is 2.5. */
const decimal = (text: string) => text.trim().replace(',', '.');

/**
 * Sets a customer's tariff: a currency and a flat price, or bands of weekdays and hours (on the
 * customer's clock) each with a price, which together must price every hour of the week once.
 */
export function TariffDialog({
  user,
  onClose,
  onSaved,
}: {
  user: User;
  onClose: () => void;
  onSaved: (message: string) => void;
}) {
  const id = useId();
  const [loaded, setLoaded] = useState(false);
  const [exists, setExists] = useState(false);
  const [currency, setCurrency] = useState('');
  const [kind, setKind] = useState<'flat' | 'bands'>('flat');
  const [flat, setFlat] = useState('');
  const [bands, setBands] = useState<BandDraft[]>(startingBands(''));
  const [errors, setErrors] = useState<{ fields: Record<string, string>; form: string | null }>({
    fields: {},
    form: null,
  });
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const controller = new AbortController();
    getTariff(user.id, controller.signal).then(
      (tariff) => {
        if (tariff) {
          setExists(true);
          setCurrency(tariff.currency);
          if (tariff.flat_price != null) {
            setFlat(tariff.flat_price);
          } else {
            setKind('bands');
            setBands(tariff.bands.map(toDraft));
          }
        }
        setLoaded(true);
      },
      (error: unknown) => {
        if (!controller.signal.aborted) {
          setErrors(formErrors(error, []));
          setLoaded(true);
        }
      },
    );
    return () => controller.abort();
  }, [user.id]);

  const changeBand = (index: number, change: Partial<BandDraft>) =>
    setBands((current) => current.map((band, at) => (at === index ? { ...band, ...change } : band)));

  const save = async (event: Event) => {
    event.preventDefault();
    const input: TariffInput =
      kind === 'flat'
        ? { currency: currency.trim(), flat_price: decimal(flat) }
        : {
            currency: currency.trim(),
            bands: bands.map((band) => ({
              days: band.days,
              from_hour: Number(band.from),
              to_hour: Number(band.to),
              price: decimal(band.price),
            })),
          };
    setBusy(true);
    try {
      await setTariff(user.id, input);
      onSaved(`Tariff of ${user.username} saved.`);
    } catch (error) {
      const fields = ['currency', 'flat_price', 'bands', ...bands.flatMap((_, index) => bandFields(index))];
      setErrors(formErrors(error, fields));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setBusy(true);
    try {
      await removeTariff(user.id);
      onSaved(`Tariff of ${user.username} removed; they see kWh only.`);
    } catch (error) {
      setErrors(formErrors(error, []));
    } finally {
      setBusy(false);
    }
  };

  const zone = user.time_zone ?? 'UTC';
  const bandErrors = Object.entries(errors.fields).filter(([field]) => field.startsWith('bands'));
  return (
    <Dialog title={`Tariff of ${user.username}`} onClose={onClose}>
      <form class="form tariff-form" noValidate onSubmit={save}>
        <p>
          {user.display_name} sees the cost of their consumption at these prices per kWh. Hours are on their clock:{' '}
          {zone}.
        </p>
        <FormError message={errors.form} />
        {!loaded ? (
          <p class="loading">Loading…</p>
        ) : (
          <>
            <div class={errors.fields['currency'] ? 'field field--invalid' : 'field'}>
              <label for={`${id}-currency`}>Currency</label>
              <p id={`${id}-currency-hint`} class="field-hint">
                An ISO 4217 code, such as RON, EUR or USD.
              </p>
              <input
                id={`${id}-currency`}
                type="text"
                maxLength={3}
                autoCapitalize="characters"
                value={currency}
                aria-describedby={`${id}-currency-hint`}
                aria-invalid={errors.fields['currency'] ? 'true' : undefined}
                onInput={(event) => setCurrency(event.currentTarget.value.toUpperCase())}
              />
              {errors.fields['currency'] && <p class="field-error">{errors.fields['currency']}</p>}
            </div>
            <fieldset class="segmented">
              <legend>Prices</legend>
              <div class="segmented-options">
                <label class="segmented-option">
                  <input type="radio" name={`${id}-kind`} checked={kind === 'flat'} onChange={() => setKind('flat')} />
                  <span>Flat price</span>
                </label>
                <label class="segmented-option">
                  <input
                    type="radio"
                    name={`${id}-kind`}
                    checked={kind === 'bands'}
                    onChange={() => {
                      setKind('bands');
                      if (!exists || bands.every((band) => !band.price)) setBands(startingBands(decimal(flat)));
                    }}
                  />
                  <span>Time of use</span>
                </label>
              </div>
            </fieldset>
            {kind === 'flat' ? (
              <div class={errors.fields['flat_price'] ? 'field field--invalid' : 'field'}>
                <label for={`${id}-flat`}>Price per kWh{currency ? ` (${currency})` : ''}</label>
                <input
                  id={`${id}-flat`}
                  type="text"
                  inputMode="decimal"
                  value={flat}
                  aria-invalid={errors.fields['flat_price'] ? 'true' : undefined}
                  onInput={(event) => setFlat(event.currentTarget.value)}
                />
                {errors.fields['flat_price'] && <p class="field-error">{errors.fields['flat_price']}</p>}
              </div>
            ) : (
              <div class="tariff-bands">
                {bandErrors.length > 0 && (
                  <ul class="field-error" role="alert">
                    {bandErrors.map(([field, message]) => (
                      <li key={field}>{field === 'bands' ? message : `${bandName(field)}: ${message}`}</li>
                    ))}
                  </ul>
                )}
                {bands.map((band, index) => (
                  <fieldset key={index} class="tariff-band">
                    <legend>Band {index + 1}</legend>
                    <div class="tariff-days" role="group" aria-label={`Days of band ${index + 1}`}>
                      {DAYS.map(({ day, label }) => (
                        <label key={day} class="checkbox">
                          <input
                            type="checkbox"
                            checked={band.days.includes(day)}
                            onChange={(event) =>
                              changeBand(index, {
                                days: event.currentTarget.checked
                                  ? ALL_DAYS.filter((each) => each === day || band.days.includes(each))
                                  : band.days.filter((each) => each !== day),
                              })
                            }
                          />
                          {label}
                        </label>
                      ))}
                    </div>
                    <div class="tariff-hours">
                      <label>
                        From
                        <select
                          value={band.from}
                          onInput={(event) => changeBand(index, { from: event.currentTarget.value })}
                        >
                          {Array.from({ length: 24 }, (_, hour) => (
                            <option key={hour} value={String(hour)}>{`${String(hour).padStart(2, '0')}:00`}</option>
                          ))}
                        </select>
                      </label>
                      <label>
                        to
                        <select
                          value={band.to}
                          onInput={(event) => changeBand(index, { to: event.currentTarget.value })}
                        >
                          {Array.from({ length: 24 }, (_, hour) => (
                            <option
                              key={hour}
                              value={String(hour + 1)}
                            >{`${String(hour + 1).padStart(2, '0')}:00`}</option>
                          ))}
                        </select>
                      </label>
                      <label>
                        Price per kWh
                        <input
                          type="text"
                          inputMode="decimal"
                          size={8}
                          value={band.price}
                          onInput={(event) => changeBand(index, { price: event.currentTarget.value })}
                        />
                      </label>
                      <button
                        type="button"
                        class="button button--small"
                        disabled={bands.length === 1}
                        onClick={() => setBands((current) => current.filter((_, at) => at !== index))}
                      >
                        Remove band {index + 1}
                      </button>
                    </div>
                  </fieldset>
                ))}
                <button
                  type="button"
                  class="button button--small"
                  onClick={() => setBands((current) => [...current, { days: [], from: '0', to: '24', price: '' }])}
                >
                  Add a band
                </button>
              </div>
            )}
          </>
        )}
        <div class="dialog-actions">
          {exists && (
            <button type="button" class="button button--danger" disabled={busy} onClick={remove}>
              Remove tariff
            </button>
          )}
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button button--primary" disabled={busy || !loaded}>
            {busy ? 'Working…' : 'Save tariff'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function bandFields(index: number): string[] {
  return ['', '.days', '.from_hour', '.to_hour', '.price'].map((suffix) => `bands[${index}]${suffix}`);
}

/** "bands[1].price" → "Band 2, price". */
function bandName(field: string): string {
  const match = /^bands\[(\d+)\](?:\.(\w+))?$/.exec(field);
  if (!match) return field;
  const part = match[2] ? `, ${match[2].replace('_', ' ')}` : '';
  return `Band ${Number(match[1]) + 1}${part}`;
}
