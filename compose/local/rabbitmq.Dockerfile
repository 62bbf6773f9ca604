# RabbitMQ from Debian's packages (with the management and MQTT plugins), for machines that reach
# no container registry. It keeps the official image's contract that compose/stack.yml uses:
# RABBITMQ_DEFAULT_USER, RABBITMQ_DEFAULT_PASS, data in /var/lib/rabbitmq, plugins named by
# /etc/rabbitmq/enabled_plugins, ports 5672, 15672 and 1883 (MQTT).
ARG BASE_IMAGE=ems-local/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends rabbitmq-server \
 && rm -rf /var/lib/apt/lists/* \
 && rabbitmq-plugins enable --offline rabbitmq_management rabbitmq_mqtt >/dev/null \
 && chown -R rabbitmq:rabbitmq /etc/rabbitmq /var/lib/rabbitmq
COPY rabbitmq-entrypoint.sh /usr/local/bin/rabbitmq-entrypoint
USER rabbitmq
EXPOSE 5672 15672 1883
ENTRYPOINT ["/usr/local/bin/rabbitmq-entrypoint"]
