#!/usr/bin/env bash
# Creates EMS's secrets with random values:
#   compose/make-secrets.sh           files in compose/secrets/ for docker-compose.yml
#   compose/make-secrets.sh --swarm   Docker secrets (ems_<name>_v1) for stack.yml
# Existing ones are kept. EMS_AI_API_KEY, if set, becomes the AI key (else a placeholder: the
# default provider `none` does not use it); EMS_ADMIN_PASSWORD, if set, the administrator's.
set -euo pipefail
cd "$(dirname "$0")"

random() { head -c 48 /dev/urandom | base64 -w0 | tr '+/' '-_'; }
value_of() {
  case $1 in
    ai_api_key) printf '%s' "${EMS_AI_API_KEY:-none}" ;;
    admin_password) printf '%s' "${EMS_ADMIN_PASSWORD:-$(random | head -c 20)}" ;;
    *) random ;;
  esac
}
names=(jwt_secret db_password ai_api_key admin_password)

if [[ ${1:-} == --swarm ]]; then
  for name in "${names[@]}"; do
    if docker secret inspect "ems_${name}_v1" >/dev/null 2>&1; then
      echo "ems_${name}_v1 exists"
    else
      value_of "$name" | docker secret create "ems_${name}_v1" - >/dev/null
      echo "created ems_${name}_v1"
    fi
  done
else
  mkdir -p secrets
  chmod 700 secrets
  for name in "${names[@]}"; do
    file=secrets/$name.txt
    if [[ -s $file ]]; then
      echo "$file exists"
    else
      (umask 077 && value_of "$name" >"$file")
      echo "created $file"
    fi
  done
  echo "administrator password: $(cat secrets/admin_password.txt)"
fi
