//! What a monitor needs to know about each device (its limit, owner and name), cached in memory
//! and kept current by `ems.devices.changed` events, with a periodic full reload as a safety net
//! for an event missed while NATS was away.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, RwLock},
    time::Duration,
};

use ems_common::{Shutdown, contracts::DeviceChanged, energy::Kwh};
use futures::StreamExt;
use sqlx::PgPool;
use uuid::Uuid;

const FULL_RELOAD_EVERY: Duration = Duration::from_secs(60);

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct CachedDevice {
    pub id: Uuid,
    pub name: String,
    pub max_hourly_kwh: Kwh,
    pub owner_id: Option<Uuid>,
    /// Whether its owner wants a `forecast` alert before the hourly limit is crossed.
    pub forecast_alerts: bool,
}

#[derive(Clone)]
pub struct DeviceCache {
    pool: PgPool,
    devices: Arc<RwLock<HashMap<Uuid, CachedDevice>>>,
}

const SELECT_DEVICES: &str = "SELECT id, name, max_hourly_kwh, owner_id, forecast_alerts FROM devices";

impl DeviceCache {
    pub async fn load(pool: PgPool) -> sqlx::Result<Self> {
        let cache = Self { pool, devices: Arc::default() };
        cache.reload_all().await?;
        Ok(cache)
    }

    pub async fn reload_all(&self) -> sqlx::Result<()> {
        let rows = sqlx::query_as::<_, CachedDevice>(SELECT_DEVICES).fetch_all(&self.pool).await?;
        let fresh: HashMap<Uuid, CachedDevice> = rows.into_iter().map(|device| (device.id, device)).collect();
        *self.devices.write().expect("device cache lock") = fresh;
        Ok(())
    }

    /// The devices among `ids` that exist. Ids not in the cache are looked up in the database
    /// (a device created a moment ago may not have reached us as an event yet).
    pub async fn resolve(&self, ids: &HashSet<Uuid>) -> sqlx::Result<HashMap<Uuid, CachedDevice>> {
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            let devices = self.devices.read().expect("device cache lock");
            for id in ids {
                match devices.get(id) {
                    Some(device) => {
                        found.insert(*id, device.clone());
                    }
                    None => missing.push(*id),
                }
            }
        }
        if !missing.is_empty() {
            let rows = sqlx::query_as::<_, CachedDevice>(&format!("{SELECT_DEVICES} WHERE id = ANY($1)"))
                .bind(&missing)
                .fetch_all(&self.pool)
                .await?;
            let mut devices = self.devices.write().expect("device cache lock");
            for device in rows {
                devices.insert(device.id, device.clone());
                found.insert(device.id, device);
            }
        }
        Ok(found)
    }

    /// Reloads one device, or forgets it if it is gone.
    pub async fn refresh(&self, id: Uuid) -> sqlx::Result<()> {
        let row = sqlx::query_as::<_, CachedDevice>(&format!("{SELECT_DEVICES} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let mut devices = self.devices.write().expect("device cache lock");
        match row {
            Some(device) => devices.insert(id, device),
            None => devices.remove(&id),
        };
        Ok(())
    }

    /// Follows device changes until shutdown.
    pub async fn follow(self, nats: async_nats::Client, subject: String, shutdown: Shutdown) -> anyhow::Result<()> {
        let mut changes = nats.subscribe(subject).await?;
        let mut reload = tokio::time::interval(FULL_RELOAD_EVERY);
        reload.tick().await;
        loop {
            tokio::select! {
                () = shutdown.requested() => return Ok(()),
                _ = reload.tick() => {
                    if let Err(error) = self.reload_all().await {
                        tracing::warn!(%error, "reloading the device cache failed; keeping the old one");
                    }
                }
                message = changes.next() => {
                    let Some(message) = message else { return Ok(()) };
                    match serde_json::from_slice::<DeviceChanged>(&message.payload) {
                        Ok(change) => {
                            if let Err(error) = self.refresh(change.device_id).await {
                                tracing::warn!(%error, device_id = %change.device_id, "refreshing a device failed");
                            }
                        }
                        Err(error) => tracing::warn!(%error, "ignoring a malformed device change event"),
                    }
                }
            }
        }
    }
}
