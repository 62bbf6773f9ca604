# RabbitMQ from Debian's packages (with the management plugin), for machines that reach no
# container registry. It keeps the official image's contract that compose/stack.yml uses:
# RABBITMQ_DEFAULT_USER, RABBITMQ_DEFAULT_PASS, data in /var/lib/rabbitmq, ports 5672 and 15672.
ARG BASE_IMAGE=ems-local/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends rabbitmq-server \
 && rm -rf /var/lib/apt/lists/* \
 && rabbitmq-plugins enable --offline rabbitmq_management >/dev/null \
 && chown -R rabbitmq:rabbitmq /etc/rabbitmq /var/lib/rabbitmq
COPY rabbitmq-entrypoint.sh /usr/local/bin/rabbitmq-entrypoint
USER rabbitmq
EXPOSE 5672 15672
ENTRYPOINT ["/usr/local/bin/rabbitmq-entrypoint"]
