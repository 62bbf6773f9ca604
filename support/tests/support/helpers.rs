//! Fakes for the data and the model, a fresh database per test, and a deadline for every test.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use chrono::NaiveDate;
use ems_support::{AiError, ChatModel, Customer, CustomerData, DeviceSummary, OpenAlerts, Rules, Support, ai::Prompt};
use uuid::Uuid;

/// Fails the test instead of letting it hang.
pub async fn within<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), future).await.expect("the test finished within 30 s")
}

pub fn ana() -> Customer {
    Customer { id: Uuid::new_v4(), name: "Ana".into() }
}

pub fn device(name: &str, max_hourly_kwh: f64, today_kwh: f64) -> DeviceSummary {
    DeviceSummary { name: name.into(), max_hourly_kwh, today_kwh, yesterday_kwh: 0.0 }
}

/// Customer data held in memory; `broken` makes every read fail like a lost database.
#[derive(Default)]
pub struct FakeData {
    pub devices: Vec<DeviceSummary>,
    pub alerts: OpenAlerts,
    pub broken: bool,
}

impl FakeData {
    pub fn with_devices(devices: Vec<DeviceSummary>) -> Self {
        Self { devices, ..Self::default() }
    }
}

#[async_trait]
impl CustomerData for FakeData {
    async fn devices(&self, _customer: Uuid, _today: NaiveDate) -> anyhow::Result<Vec<DeviceSummary>> {
        anyhow::ensure!(!self.broken, "the database is away");
        Ok(self.devices.clone())
    }

    async fn open_alerts(&self, _customer: Uuid) -> anyhow::Result<OpenAlerts> {
        anyhow::ensure!(!self.broken, "the database is away");
        Ok(self.alerts.clone())
    }
}

/// A model that always gives the same result and counts how often it was asked.
pub struct FakeModel {
    pub result: Result<String, AiError>,
    pub calls: Arc<AtomicUsize>,
}

impl FakeModel {
    pub fn boxed(result: Result<String, AiError>) -> (Box<dyn ChatModel>, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        (Box::new(Self { result, calls: Arc::clone(&calls) }), calls)
    }
}

#[async_trait]
impl ChatModel for FakeModel {
    async fn reply(&self, _prompt: &Prompt) -> Result<String, AiError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.result.clone()
    }
}

pub fn support(data: FakeData, ai: Option<Box<dyn ChatModel>>) -> Support {
    Support::new(Rules::builtin(), Box::new(data), ai)
}

pub use ems_common::testing::TestDatabase as TestDb;
