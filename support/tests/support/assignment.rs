//! Administrators replying in a conversation: the first reply in a conversation nobody holds
//! assigns it to its writer; a reply in a conversation someone else holds is stored and
//! delivered, and leaves it with them.

use ems_common::{Role, contracts::ChatSource};
use uuid::Uuid;

use crate::{helpers::within, inbox::Inbox};

/// Who holds the conversation, as stored.
async fn holder(inbox: &Inbox, customer: Uuid) -> Option<Uuid> {
    sqlx::query_scalar("SELECT admin_id FROM conversations WHERE customer_id = $1")
        .bind(customer)
        .fetch_one(&inbox.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_first_administrator_to_reply_holds_the_conversation_and_a_second_reply_does_not_take_it() {
    within(async {
        let inbox = Inbox::open().await;
        let ana = inbox.customer("ana").await;
        let (maria, ion) = (inbox.admin("maria").await, inbox.admin("ion").await);
        let mut to_ana = inbox.listen(ana).await;
        let support = inbox.start(Inbox::args_without_ai()).await;

        // Nothing answers this: the conversation waits for a person.
        inbox.send(ana, "q1", "my inverter shows the code E-417, is that serious?").await;
        assert_eq!(to_ana.next_answer().await.source, ChatSource::System);

        inbox.send_as(ana, maria, Role::Admin, "r1", "Maria here, let me look.").await;
        inbox.send_as(ana, ion, Role::Admin, "r2", "Ion here too.").await;
        let mut replies = Vec::new();
        while replies.len() < 2 {
            let message = to_ana.next_message().await;
            if message.source == ChatSource::Admin {
                replies.push((message.sender_id, message.body));
            }
        }
        assert_eq!(
            replies,
            [(Some(maria), "Maria here, let me look.".to_owned()), (Some(ion), "Ion here too.".to_owned())],
            "both replies reach the customer"
        );
        assert_eq!(holder(&inbox, ana).await, Some(maria), "the conversation stays with the first to reply");

        // Handed back (nobody holds it): the next reply takes it.
        sqlx::query("UPDATE conversations SET mode = 'bot', admin_id = NULL WHERE customer_id = $1")
            .bind(ana)
            .execute(&inbox.db.pool)
            .await
            .unwrap();
        inbox.send_as(ana, ion, Role::Admin, "r3", "Ion again.").await;
        while to_ana.next_message().await.body != "Ion again." {}
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while holder(&inbox, ana).await != Some(ion) {
            assert!(std::time::Instant::now() < deadline, "Ion's reply did not take the conversation");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        support.stop().await;
        inbox.close().await;
    })
    .await;
}
