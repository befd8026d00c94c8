#!/usr/bin/env bash
# Installs pgvector into the newest local PostgreSQL when it is missing.
# Debian bookworm does not package pgvector for PostgreSQL 15, but trixie's
# source package builds against postgresql-server-dev-15 in seconds.
set -euo pipefail
PG_CONFIG=${PG_CONFIG:-$(ls /usr/lib/postgresql/*/bin/pg_config 2>/dev/null | sort -V | tail -n 1)}
if [ -z "$PG_CONFIG" ]; then echo "install-pgvector: no PostgreSQL found under /usr/lib/postgresql" >&2; exit 1; fi
SHARE=$("$PG_CONFIG" --sharedir)
if [ -f "$SHARE/extension/vector.control" ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "install-pgvector: pgvector is missing and installing it needs root (apt-get)" >&2; exit 1; fi
MAJOR=$("$PG_CONFIG" --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')
echo "install-pgvector: building pgvector for PostgreSQL $MAJOR" >&2
SRC=/etc/apt/sources.list.d/hangar-pgvector-src.sources
if [ ! -f "$SRC" ]; then
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > "$SRC"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq "postgresql-server-dev-$MAJOR" make gcc >&2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
apt-get source --download-only pgvector >&2
tar xf pgvector_*.orig.tar.*
cd pgvector-*/
make -s PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >&2
make -s PG_CONFIG="$PG_CONFIG" install >&2
echo "install-pgvector: installed into $SHARE/extension" >&2
