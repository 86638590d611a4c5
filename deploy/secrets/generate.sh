#!/bin/sh
# Creates the secret files docker-compose.yml mounts, with random passwords, and a self-signed TLS certificate
# for nginx. Files that already exist are kept, so it is safe to run again; delete a file to regenerate it (and
# note that postgres keeps the password it was initialised with in its volume).
#
#   sh deploy/secrets/generate.sh [hostname]      # hostname for the certificate, default localhost
#
# The files are readable by the containers' service users (postgres, redis, rabbitmq and Keyhaven do not run as
# root), so they are mode 0644 inside this directory, which is mode 0700. Everything here but this script, the
# README and .gitignore is ignored by git.
set -eu

dir=$(cd "$(dirname "$0")" && pwd)
host=${1:-localhost}
chmod 0700 "$dir"

random() {
  # 32 bytes, URL-safe: fits in a URL without escaping.
  od -An -N32 -tx1 /dev/urandom | tr -d ' \n'
}

write() {
  # write NAME VALUE: creates $dir/NAME with VALUE unless it exists.
  if [ -e "$dir/$1" ]; then
    echo "kept      $1"
  else
    umask 022
    printf '%s\n' "$2" > "$dir/$1"
    echo "created   $1"
  fi
}

value() {
  sed -n '1p' "$dir/$1"
}

write postgres_password "$(random)"
write database_url "postgres://keyhaven:$(value postgres_password)@postgres:5432/keyhaven"

write redis_password "$(random)"
write redis.conf "requirepass $(value redis_password)
appendonly yes"
write redis_url "redis://:$(value redis_password)@redis:6379"

write rabbitmq_password "$(random)"
write rabbitmq.conf "default_user = keyhaven
default_pass = $(value rabbitmq_password)"
write amqp_url "amqp://keyhaven:$(value rabbitmq_password)@rabbitmq:5672"

# The admin portal token. Keyhaven expects its Argon2id hash; until you replace it, keep the value here secret.
write admin_token "$(random)"

# The bundled MinIO's root password, which is also the services' S3 secret key. With your own S3-compatible
# store, replace it with that store's secret key (and set S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID in .env).
write s3_secret_access_key "$(random)"

# Optional: fill in to use SMTP authentication, and set SMTP_PASSWORD_FILE in .env (see
# deploy/env/keyhaven.env.example). An empty file is mounted but not read.
for optional in smtp_password; do
  if [ ! -e "$dir/$optional" ]; then
    umask 022
    : > "$dir/$optional"
    echo "created   $optional (empty)"
  fi
done

if [ ! -e "$dir/tls_cert" ] || [ ! -e "$dir/tls_key" ]; then
  umask 077
  openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 365 \
    -subj "/CN=$host" -addext "subjectAltName=DNS:$host" \
    -keyout "$dir/tls_key" -out "$dir/tls_cert" 2>/dev/null
  chmod 0644 "$dir/tls_cert"
  echo "created   tls_cert, tls_key (self-signed for $host; replace with your certificate)"
else
  echo "kept      tls_cert, tls_key"
fi
