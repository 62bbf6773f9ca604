// The shapes the EMS REST API sends and accepts, under the names the dashboard uses. None is
// written by hand: they come from schema.d.ts, which `npm run api:types` generates from
// openapi.json, the server's own document (web/tests/api/openapi.rs keeps that file current, and
// `npm run api:check` the generated types). When the API changes, these change with it and
// `tsc` points at every place in the dashboard that has to follow.
import type { components, operations } from './schema';

type Schemas = components['schemas'];

export type Role = Schemas['Role'];
export type User = Schemas['User'];
export type NewUser = Schemas['NewUser'];
export type UserChanges = Schemas['UserChanges'];
/** PATCH /api/me: what users change about their own account. */
export type MyChanges = Schemas['MyChanges'];
export type NewPassword = Schemas['NewPassword'];

export type Device = Schemas['Device'];
export type NewDevice = Schemas['NewDevice'];
export type DeviceChanges = Schemas['DeviceChanges'];
/** Who a device is given to. */
export type Assignment = Schemas['Assignment'];

export type LoginRequest = Schemas['LoginRequest'];
export type RefreshRequest = Schemas['RefreshRequest'];
/** What login and refresh return. */
export type SessionResponse = Schemas['Session'];
/** POST /api/ws-ticket: opens one WebSocket connection. */
export type WsTicket = Schemas['WsTicket'];

export type ErrorBody = Schemas['ErrorBody'];
export type FieldError = Schemas['FieldError'];

/** Consumption series steps; days and months are those of the request's time zone. */
export type Step = Schemas['Step'];
export type ConsumptionPoint = Schemas['Point'];
/** GET /api/devices/{id}/consumption: one point per step, `kwh` null where nothing was measured. */
export type Series = Schemas['Series'];
export type DeviceDay = Schemas['DeviceDay'];
/** GET /api/me/consumption: one day of the signed-in user's devices, in the request's time zone. */
export type MyDay = Schemas['Day'];

export type AlertKind = Schemas['AlertKind'];
/** An alert as stored, with its acknowledgement. */
export type Alert = Schemas['Alert'];
/** An alert as it was raised: what the WebSocket pushes, without an acknowledgement yet. */
export type AlertEvent = Schemas['AlertEvent'];
/** An hour's alerts of one device, acted on together. */
export type Incident = Schemas['Incident'];
/** POST /api/alerts/acknowledge: which alerts; `{}` for all the caller may acknowledge. */
export type AcknowledgeFilter = Schemas['AcknowledgeFilter'];
/** How many alerts a bulk acknowledgement marked as seen. */
export type Acknowledged = Schemas['Acknowledged'];
/** PUT /api/devices/{id}/snooze. */
export type Snooze = Schemas['Snooze'];
export type ForecastAlerts = Schemas['ForecastAlerts'];
export type PushKey = Schemas['PushKey'];

export type ChatSource = Schemas['ChatSource'];
export type ConversationMode = Schemas['ConversationMode'];
export type ChatMessage = Schemas['ChatMessage'];
/** A conversation's messages, oldest first. */
export type History = Schemas['History'];
/** A line of the administrators' inbox. */
export type Conversation = Schemas['Conversation'];
/** A page of the administrators' inbox, with the cursor of the next. */
export type Inbox = Schemas['Inbox'];
/** Whose conversations the inbox lists. */
export type Assigned = NonNullable<ConversationQuery['assigned']>;
/** A customer's rating of a handed-back conversation (rating null until given). */
export type SupportRating = Schemas['SupportRating'];
export type NewRating = Schemas['NewRating'];
/** How customers rated one administrator. */
export type AdminRatings = Schemas['AdminRatings'];

export type Replica = Schemas['Replica'];

/**
 * A page of any list. The document has one schema per list (`Page_User`, `Page_Device`, …) that
 * differ only in their items; api/types.test.ts checks that each is this type.
 */
export type Page<T> = { [K in keyof PageOf<T>]: PageOf<T>[K] };
type PageOf<T> = Omit<Schemas['Page_User'], 'items'> & { items: T[] };

type OptionalKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? K : never }[keyof T];
/** Optional parameters may also be given as `undefined`, which `withQuery` leaves out. */
type Loose<T> = { [K in keyof T]: K extends OptionalKeys<T> ? T[K] | undefined : T[K] };
/** The query parameters of the operation with this `operationId`. */
type QueryOf<Operation extends keyof operations> = Loose<NonNullable<operations[Operation]['parameters']['query']>>;

/** Search and paging, which every list takes. */
export type PageQuery = Pick<QueryOf<'list_users'>, 'q' | 'page' | 'per_page'>;
export type UserQuery = QueryOf<'list_users'>;
export type DeviceQuery = QueryOf<'list_devices'>;
export type AlertQuery = QueryOf<'list_alerts'>;
export type ConversationQuery = QueryOf<'conversations'>;
export type HistoryQuery = QueryOf<'my_history'>;
export type SeriesQuery = QueryOf<'device_consumption'>;

/** A customer's tariff: a flat price per kWh or time-of-use bands, in one currency. */
export type Tariff = Schemas['Tariff'];
/** PUT /api/users/{id}/tariff. */
export type TariffInput = Schemas['TariffInput'];
export type TariffBand = Schemas['Band'];
export type Weekday = Schemas['Weekday'];
/** The month so far and its projection to the month's end. */
export type MonthToDate = Schemas['MonthToDate'];
