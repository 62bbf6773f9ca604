# PostgreSQL from Debian's packages, for machines that reach no container registry. It keeps the
# official image's contract that compose/stack.yml uses: POSTGRES_USER, POSTGRES_DB,
# POSTGRES_PASSWORD_FILE (or POSTGRES_PASSWORD), data in /var/lib/postgresql/data.
ARG BASE_IMAGE=ems-local/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]
