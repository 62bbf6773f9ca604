//! WebSocket notifier.
