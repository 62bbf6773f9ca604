# NATS from Debian's packages, for machines that reach no container registry. Like the official
# image, arguments are nats-server's flags (compose/stack.yml: -js -sd /data -m 8222).
ARG BASE_IMAGE=ems-local/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends nats-server wget \
 && rm -rf /var/lib/apt/lists/* \
 && (id nats >/dev/null 2>&1 || useradd --system --home-dir /data --shell /usr/sbin/nologin nats) \
 && mkdir -p /data && chown nats /data
USER nats
EXPOSE 4222 8222
ENTRYPOINT ["/usr/sbin/nats-server"]
