//! CSV export of a device's consumption: the same series as `/api/devices/{id}/consumption`, with
//! the same parameters, as `text/csv`. Rows are streamed from PostgreSQL to the client as they
//! come (a year of hours is 8,784 rows), never collected in memory first.

use std::fmt::Write as _;

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use chrono::{SecondsFormat, TimeDelta};
use futures::{SinkExt, StreamExt, channel::mpsc};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    consumption::{SeriesQuery, SeriesRequest, Step},
    error::documented::{Invalid, Malformed, NotSignedIn},
    error::{ApiResult, ErrorBody},
    extract::{ApiPath, ApiQuery, CurrentUser},
    state::ApiContext,
};

pub fn router() -> OpenApiRouter<ApiContext> {
    OpenApiRouter::new().routes(routes!(export_consumption)).routes(routes!(export_my_consumption))
}

/// The header row: `start` is the step's first instant on the local clock of the series' zone,
/// ISO 8601 with its offset; `kwh` and `cost` are empty where nothing was measured (or priced).
pub const HEADER: &str = "start,kwh,cost,currency\n";

/// Rows are sent in chunks of about this many bytes.
const CHUNK_BYTES: usize = 16 * 1024;

/// A device's consumption as CSV, one row per step, streamed; at hourly steps up to 366 days.
#[utoipa::path(get, path = "/api/devices/{id}/consumption.csv", tag = "consumption",
    params(("id" = Uuid, Path), SeriesQuery), security(("bearer" = [])),
    responses(
        (status = 200, content_type = "text/csv", body = String,
         description = "`start,kwh,cost,currency` then one row per step; `cost` and `currency` empty without a tariff"),
        Malformed,
        NotSignedIn,
        (status = 404, body = ErrorBody, description = "no device with this id is visible to you"),
        Invalid,
    ))]
async fn export_consumption(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<SeriesQuery>,
) -> ApiResult<Response> {
    // Everything that can be refused is checked before the first byte: then the answer is 200.
    let request = SeriesRequest::prepare(&context, &claims, id, &query, true).await?;
    Ok(stream_csv(&context, request, &id.to_string(), query.step))
}

/// All the signed-in user's devices together as CSV, one row per step, streamed.
#[utoipa::path(get, path = "/api/me/consumption.csv", tag = "consumption",
    params(SeriesQuery), security(("bearer" = [])),
    responses(
        (status = 200, content_type = "text/csv", body = String,
         description = "`start,kwh,cost,currency` then one row per step, all my devices added up"),
        Malformed,
        NotSignedIn,
        Invalid,
    ))]
async fn export_my_consumption(
    CurrentUser(claims): CurrentUser,
    State(context): State<ApiContext>,
    ApiQuery(query): ApiQuery<SeriesQuery>,
) -> ApiResult<Response> {
    let request = SeriesRequest::prepare_mine(&context, &claims, &query, true).await?;
    Ok(stream_csv(&context, request, "all-devices", query.step))
}

/// Streams the request's rows as CSV, named after `subject` and the range.
fn stream_csv(context: &ApiContext, request: SeriesRequest, subject: &str, step: Step) -> Response {
    let last_day = (request.to - TimeDelta::microseconds(1)).with_timezone(&request.zone).date_naive();
    let filename = format!(
        "consumption-{subject}-{}-to-{last_day}-{}.csv",
        request.from.with_timezone(&request.zone).date_naive(),
        step.sql()
    );
    let subject = subject.to_owned();
    let (mut sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let pool = context.pool.clone();
    tokio::spawn(async move {
        let currency = request.currency.clone().unwrap_or_default();
        let mut chunk = String::from(HEADER);
        let mut rows = request.query().fetch(&pool);
        while let Some(row) = rows.next().await {
            let point = match row {
                Ok(point) => point,
                Err(error) => {
                    // The status is sent already: end the body with an error so the client sees
                    // a broken download rather than a short file that looks whole.
                    tracing::error!(error = ?error, %subject, "CSV export failed");
                    let _ = sender.send(Err(std::io::Error::other("the export failed"))).await;
                    return;
                }
            };
            let start = point.start.with_timezone(&request.zone).to_rfc3339_opts(SecondsFormat::Secs, false);
            let kwh = point.kwh.map(|kwh| format!("{}", (kwh * 1e6).round() / 1e6)).unwrap_or_default();
            let cost = point.cost.map(|cost| cost.normalize().to_string()).unwrap_or_default();
            let _ = writeln!(chunk, "{start},{kwh},{cost},{}", if point.cost.is_some() { &currency[..] } else { "" });
            if chunk.len() >= CHUNK_BYTES && sender.send(Ok(Bytes::from(std::mem::take(&mut chunk)))).await.is_err() {
                return; // The client went away.
            }
        }
        let _ = sender.send(Ok(Bytes::from(chunk))).await;
    });
    let mut response = Body::from_stream(receiver).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
