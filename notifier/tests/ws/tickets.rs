//! Tickets: the way a browser opens a WebSocket without putting its access token in the URL.

use ems_common::Role;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use uuid::Uuid;

use crate::helpers::{Setup, args, close_code, next_frame, open, open_with_bearer};

#[tokio::test]
async fn a_ticket_opens_one_connection_as_its_user_and_is_refused_the_second_time() {
    let setup = Setup::new().await;
    let notifier = setup.notifier(args()).await;
    let ana = Uuid::new_v4();
    let ticket = notifier.ticket(&setup.token(ana, Role::Client).await).await;
    assert_eq!(ticket.len(), 43, "256 bits in URL-safe base64: {ticket}");

    let mut first = open(&format!("{}?ticket={ticket}", notifier.address)).await;
    let hello = next_frame(&mut first).await;
    assert_eq!((hello["type"].as_str(), hello["user_id"].as_str()), (Some("hello"), Some(ana.to_string().as_str())));

    let mut again = open(&format!("{}?ticket={ticket}", notifier.address)).await;
    let (code, reason) = close_code(&mut again).await;
    assert_eq!(code, CloseCode::Library(4401));
    assert!(reason.contains("already used"), "{reason}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM ws_tickets").fetch_one(&setup.pool).await.unwrap();
    assert_eq!(stored, 0, "a used ticket is gone");
}

#[tokio::test]
async fn an_expired_ticket_is_refused_and_unused_ones_are_swept() {
    let setup = Setup::new().await;
    let notifier = setup.notifier(args()).await;
    let token = setup.token(Uuid::new_v4(), Role::Client).await;
    let (late, never_used) = (notifier.ticket(&token).await, notifier.ticket(&token).await);
    let fresh = notifier.ticket(&token).await;
    // Two of them ran out a second ago; the third is fresh.
    sqlx::query("UPDATE ws_tickets SET expires_at = now() - interval '1 second'").execute(&setup.pool).await.unwrap();
    sqlx::query(
        "UPDATE ws_tickets SET expires_at = now() + interval '30 seconds' WHERE ticket_hash = sha256($1::bytea)",
    )
    .bind(fresh.as_bytes())
    .execute(&setup.pool)
    .await
    .unwrap();

    let mut client = open(&format!("{}?ticket={late}", notifier.address)).await;
    let (code, reason) = close_code(&mut client).await;
    assert_eq!(code, CloseCode::Library(4401));
    assert!(reason.contains("expired") && reason.contains("POST /api/ws-ticket"), "{reason}");

    assert_eq!(ems_web::tickets::sweep(&setup.pool).await.unwrap(), 1, "{never_used} is swept");
    let mut client = open(&format!("{}?ticket={fresh}", notifier.address)).await;
    assert_eq!(next_frame(&mut client).await["type"], "hello", "the fresh one is kept and works");
}

#[tokio::test]
async fn a_ticket_cannot_be_made_up_altered_or_replaced_by_a_token() {
    let setup = Setup::new().await;
    let notifier = setup.notifier(args()).await;
    let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
    let ana_token = setup.token(ana, Role::Admin).await;
    let ben_token = setup.token(ben, Role::Client).await;
    let bens = notifier.ticket(&ben_token).await;

    // Ben tries to pass for Ana: a ticket says nothing of its user that he could change.
    let last = if bens.ends_with('A') { 'B' } else { 'A' };
    let altered = format!("{}{last}", &bens[..bens.len() - 1]);
    let made_up = "A".repeat(43);
    for attempt in [altered.as_str(), made_up.as_str(), ana_token.as_str(), ana.to_string().as_str()] {
        let mut client = open(&format!("{}?ticket={attempt}", notifier.address)).await;
        let (code, reason) = close_code(&mut client).await;
        assert_eq!(code, CloseCode::Library(4401), "{attempt}");
        assert!(reason.contains("unknown"), "{reason}");
    }
    // His own ticket still works, as him.
    let mut client = open(&format!("{}?ticket={bens}", notifier.address)).await;
    let hello = next_frame(&mut client).await;
    assert_eq!((hello["user_id"].as_str(), hello["role"].as_str()), (Some(ben.to_string().as_str()), Some("client")));
}

#[tokio::test]
async fn an_access_token_in_the_url_is_refused_with_a_reason_naming_tickets_while_the_header_works() {
    let setup = Setup::new().await;
    let notifier = setup.notifier(args()).await;
    let ana = Uuid::new_v4();
    let token = setup.token(ana, Role::Client).await;

    let mut in_url = open(&format!("{}?access_token={token}", notifier.address)).await;
    let (code, reason) = close_code(&mut in_url).await;
    assert_eq!(code, CloseCode::Library(4401));
    assert!(reason.contains("POST /api/ws-ticket") && reason.contains("?ticket="), "{reason}");
    // Not even next to a good ticket.
    let ticket = notifier.ticket(&token).await;
    let mut both = open(&format!("{}?ticket={ticket}&access_token={token}", notifier.address)).await;
    assert_eq!(close_code(&mut both).await.0, CloseCode::Library(4401));

    let mut program = open_with_bearer(&notifier.address, &token).await;
    let hello = next_frame(&mut program).await;
    assert_eq!((hello["type"].as_str(), hello["user_id"].as_str()), (Some("hello"), Some(ana.to_string().as_str())));
}

#[tokio::test]
async fn a_ticket_of_an_account_changed_or_deleted_since_is_refused() {
    let setup = Setup::new().await;
    let notifier = setup.notifier(args()).await;
    let (ana, carmen) = (Uuid::new_v4(), Uuid::new_v4());
    let ana_ticket = notifier.ticket(&setup.token(ana, Role::Admin).await).await;
    let carmen_ticket = notifier.ticket(&setup.token(carmen, Role::Client).await).await;

    // Ana is demoted after she got her ticket (and before the notifier has cached her account).
    sqlx::query("UPDATE users SET role = 'client', token_version = token_version + 1 WHERE id = $1")
        .bind(ana)
        .execute(&setup.pool)
        .await
        .unwrap();
    let mut client = open(&format!("{}?ticket={ana_ticket}", notifier.address)).await;
    let (code, reason) = close_code(&mut client).await;
    assert_eq!(code, CloseCode::Library(4401));
    assert!(reason.contains("sign in again"), "{reason}");

    sqlx::query("DELETE FROM users WHERE id = $1").bind(carmen).execute(&setup.pool).await.unwrap();
    let mut client = open(&format!("{}?ticket={carmen_ticket}", notifier.address)).await;
    assert_eq!(close_code(&mut client).await.0, CloseCode::Library(4401), "a deleted account's ticket is gone");
}
