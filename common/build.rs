// `sqlx::migrate!` embeds `migrations/` at compile time; without this, a migration added or
// changed leaves an incremental build with the old list (and its services refusing a database
// that a newer build migrated).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
