//! A changed account's WebSockets are closed at once, and its old token cannot connect again.

use ems_common::{Role, contracts::UserChanged};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use uuid::Uuid;

use crate::helpers::{Setup, args, close_code, connect, open_with_bearer};

#[tokio::test]
async fn a_changed_account_is_closed_with_4401_and_its_old_token_cannot_reconnect() {
    let setup = Setup::new().await;
    let notifier = setup.notifier(args()).await;
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    let ana_token = setup.token(ana, Role::Admin).await;
    let mut tab = connect(&notifier, &ana_token, "").await;
    let mut phone = connect(&notifier, &ana_token, "").await;
    let _ben = connect(&notifier, &setup.token(ben, Role::Client).await, "").await;

    // An administrator demotes Ana through the API (any instance): the row changes, then the event.
    sqlx::query("UPDATE users SET role = 'client', token_version = token_version + 1 WHERE id = $1")
        .bind(ana)
        .execute(&setup.pool)
        .await
        .unwrap();
    let event = serde_json::to_vec(&UserChanged { user_id: ana }).unwrap();
    setup.nats.publish(setup.broker.names().users_changed_subject(), event.into()).await.unwrap();

    for client in [&mut tab, &mut phone] {
        let (code, reason) = close_code(client).await;
        assert_eq!(code, CloseCode::Library(4401));
        assert!(reason.contains("sign in again"), "{reason}");
    }
    let mut again = open_with_bearer(&notifier.address, &ana_token).await;
    let (code, reason) = close_code(&mut again).await;
    assert_eq!(code, CloseCode::Library(4401), "the old token is refused: {reason}");

    // A deleted account's token is refused too.
    let carmen = Uuid::new_v4();
    let carmen_token = setup.token(carmen, Role::Client).await;
    sqlx::query("DELETE FROM users WHERE id = $1").bind(carmen).execute(&setup.pool).await.unwrap();
    let mut gone = open_with_bearer(&notifier.address, &carmen_token).await;
    let (code, reason) = close_code(&mut gone).await;
    assert_eq!((code, reason.contains("no longer exists")), (CloseCode::Library(4401), true), "{reason}");
}
