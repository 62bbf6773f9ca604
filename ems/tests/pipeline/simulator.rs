use std::process::Command;

use ems_ingress::Reading;
use lapin::options::{BasicAckOptions, BasicGetOptions};

use crate::harness::Pipeline;

#[tokio::test]
async fn a_backfill_publishes_a_reading_per_device_per_ten_minutes_for_the_named_devices() {
    let pipeline = Pipeline::new().await;
    let devices = pipeline.devices(&[2.0, 4.0, 1.0]).await;
    let output = Command::new(env!("CARGO_BIN_EXE_ems"))
        .args(["simulate", "--days", "1", "--namespace", &pipeline.broker.namespace])
        .args(["--device", "Device 0", "--device", &devices[1].id.to_string()])
        .env("EMS_DATABASE_URL", &pipeline.database_url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("2 devices: sent 288 readings, 288 confirmed, 0 refused"), "{stdout}");

    // Nothing consumes the queue in this test: every reading waits there, valid and in order.
    let queue = pipeline.broker.names().readings_queue();
    let mut readings = Vec::new();
    while let Some(message) =
        pipeline.channel.basic_get(queue.as_str().into(), BasicGetOptions { no_ack: false }).await.unwrap()
    {
        let reading = ems_ingress::reading::parse(&message.delivery.data, chrono::Utc::now()).expect("a valid reading");
        readings.push(reading);
        message.delivery.ack(BasicAckOptions::default()).await.unwrap();
    }
    assert_eq!(readings.len(), 288);
    for device in &devices[..2] {
        let own: Vec<&Reading> = readings.iter().filter(|reading| reading.device_id == device.id).collect();
        assert_eq!(own.len(), 144);
        assert!(own.windows(2).all(|pair| pair[1].timestamp - pair[0].timestamp == chrono::TimeDelta::minutes(10)));
        let average_hour = own.iter().map(|reading| reading.measurement_value).sum::<f64>() / 24.0;
        assert!(
            average_hour > 0.1 * device.limit && average_hour < 2.0 * device.limit,
            "scaled to the limit: {average_hour}"
        );
    }
    assert!(readings.iter().all(|reading| reading.device_id != devices[2].id), "only the named devices");
}

#[tokio::test]
async fn an_unknown_device_name_is_refused_with_the_known_ones() {
    let pipeline = Pipeline::new().await;
    pipeline.devices(&[2.0]).await;
    let output = Command::new(env!("CARGO_BIN_EXE_ems"))
        .args(["simulate", "--days", "1", "--device", "Toaster", "--namespace", &pipeline.broker.namespace])
        .env("EMS_DATABASE_URL", &pipeline.database_url)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("no device is called or has the id \"Toaster\"") && stderr.contains("Device 0"),
        "{stderr}"
    );
}
