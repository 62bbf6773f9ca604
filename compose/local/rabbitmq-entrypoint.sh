#!/bin/sh
# Writes the default user into rabbitmq.conf (used when the node first creates its database),
# then runs RabbitMQ in the foreground.
set -eu
cat >/etc/rabbitmq/rabbitmq.conf <<CONF
default_user = ${RABBITMQ_DEFAULT_USER:-guest}
default_pass = ${RABBITMQ_DEFAULT_PASS:-guest}
loopback_users = none
listeners.tcp.default = 5672
management.tcp.port = 15672
mqtt.listeners.tcp.default = 1883
mqtt.allow_anonymous = false
log.console = true
log.console.level = info
log.file = false
CONF
exec rabbitmq-server "$@"
