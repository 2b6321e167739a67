#!/usr/bin/env bash
# Installs the lakeshore binary on a node: an EMR bootstrap action (runs on every node of the
# cluster before its applications start), also usable by hand on any Linux host.
#
#   bootstrap.sh [--user NAME] URL [SHA256]
#
#   URL     the release: a binary, or a .tar.gz/.tgz/.tar.xz holding one file named `lakeshore`;
#           s3://... (fetched with `aws s3 cp`), https://..., http://... or file://... (curl)
#   SHA256  optional: the expected sha256 of what URL points at (the tarball, if a tarball);
#           the install stops if it differs
#   --user  owner of /etc/lakeshore and /var/lib/lakeshore (default: `hadoop` if that user
#           exists, as on EMR nodes, else `lakeshore`); created as a system user if missing
#
# What it does: download, verify, install /usr/local/bin/lakeshore (mode 755, replaced by an
# atomic rename, so a running process keeps its old copy), create /etc/lakeshore and
# /var/lib/lakeshore, then run `lakeshore --version`. Any failure stops it with a message
# naming the step and a non-zero status, which fails the node's bootstrap (and the cluster's
# start): a node never comes up without a working binary.
#
# Upload this script and the release to S3, then reference it when creating the cluster:
#
#   aws s3 cp scripts/emr/bootstrap.sh s3://my-bucket/bootstrap/lakeshore-bootstrap.sh
#   aws emr create-cluster ... \
#     --bootstrap-actions 'Path=s3://my-bucket/bootstrap/lakeshore-bootstrap.sh,Name=install-lakeshore,Args=[s3://my-bucket/releases/lakeshore-0.1.0-x86_64-linux.tar.gz,<sha256>]'
#
# The instance profile needs s3:GetObject on both objects. EMR runs bootstrap actions as the
# `hadoop` user, so the steps that need root go through sudo. The script's output is in the
# cluster's log URI, under node/<instance-id>/bootstrap-actions/.
set -euo pipefail

PROG=lakeshore-bootstrap
# The paths can be overridden from the environment (for tests, or another layout).
INSTALL_PATH=${LAKESHORE_INSTALL_PATH:-/usr/local/bin/lakeshore}
CONFIG_DIR=${LAKESHORE_CONFIG_DIR:-/etc/lakeshore}
STATE_DIR=${LAKESHORE_STATE_DIR:-/var/lib/lakeshore}

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}
on_error() {
  printf '%s: error: command failed (status %s) at line %s: %s\n' "$PROG" "$1" "$2" "$3" >&2
}
trap 'on_error "$?" "$LINENO" "$BASH_COMMAND"' ERR

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

user=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --user)
      [ $# -ge 2 ] || die "--user needs a user name"
      user=$2
      shift 2
      ;;
    --user=*)
      user=${1#--user=}
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    --)
      shift
      args+=("$@")
      break
      ;;
    -*) die "unknown option $1 (see --help)" ;;
    *)
      args+=("$1")
      shift
      ;;
  esac
done
[ ${#args[@]} -ge 1 ] || die "missing argument 1: the URL of the release (s3://, https://, file://); see --help"
[ ${#args[@]} -le 2 ] || die "too many arguments: expected URL [SHA256], got ${#args[@]}"
url=${args[0]}
sha=${args[1]:-}

if [ -n "$sha" ]; then
  sha=$(printf '%s' "$sha" | tr 'A-F' 'a-f')
  [[ $sha =~ ^[0-9a-f]{64}$ ]] || die "argument 2 is not a sha256 (64 hex digits): $sha"
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
else
  command -v sudo >/dev/null || die "not root and sudo is not installed: cannot install to $INSTALL_PATH"
  SUDO=(sudo -n)
fi

if [ -z "$user" ]; then
  if id hadoop >/dev/null 2>&1; then user=hadoop; else user=lakeshore; fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/lakeshore-bootstrap.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$work"' EXIT

# 1. Download.
case "$url" in
  *.tar.gz | *.tgz) artifact=$work/release.tar.gz ;;
  *.tar.xz) artifact=$work/release.tar.xz ;;
  *.tar) artifact=$work/release.tar ;;
  *) artifact=$work/lakeshore ;;
esac
log "downloading $url"
case "$url" in
  s3://*)
    command -v aws >/dev/null || die "the aws CLI is needed to download $url and is not installed"
    aws s3 cp --only-show-errors "$url" "$artifact" || die "download failed: aws s3 cp $url"
    ;;
  https://* | http://* | file://*)
    command -v curl >/dev/null || die "curl is needed to download $url and is not installed"
    curl -fsSL --retry 3 --retry-delay 2 -o "$artifact" "$url" || die "download failed: curl $url"
    ;;
  *) die "unsupported URL $url: use s3://, https://, http:// or file://" ;;
esac
[ -s "$artifact" ] || die "downloaded file is empty: $url"

# 2. Verify.
if [ -n "$sha" ]; then
  actual=$(sha256sum "$artifact" | cut -d' ' -f1) || die "sha256sum failed on $artifact"
  [ "$actual" = "$sha" ] || die "checksum mismatch for $url: expected $sha, got $actual"
  log "sha256 verified: $actual"
else
  log "no sha256 given: not verifying $url"
fi

# 3. Unpack a tarball: it must hold exactly one file named lakeshore.
binary=$artifact
if [ "$artifact" != "$work/lakeshore" ]; then
  mkdir "$work/unpacked"
  tar -xf "$artifact" -C "$work/unpacked" || die "cannot unpack $url (a tarball was expected)"
  mapfile -t found < <(find "$work/unpacked" -type f -name lakeshore)
  [ ${#found[@]} -eq 1 ] || die "$url holds ${#found[@]} files named lakeshore; expected exactly one"
  binary=${found[0]}
fi
chmod 0755 "$binary"
# Run it before installing: a binary built for another platform or glibc fails here, not later.
version=$("$binary" --version 2>&1) ||
  die "the downloaded binary does not run on this node (wrong platform, missing library, or $work on a noexec mount: set TMPDIR): $version"

# 4. The service user.
if ! id "$user" >/dev/null 2>&1; then
  nologin=/bin/false
  for candidate in /usr/sbin/nologin /sbin/nologin; do
    if [ -x "$candidate" ]; then
      nologin=$candidate
      break
    fi
  done
  log "creating system user $user"
  "${SUDO[@]}" useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home --shell "$nologin" "$user" ||
    die "cannot create system user $user (useradd failed)"
fi
group=$(id -gn "$user") || die "cannot find the primary group of user $user"

# 5. Install: copy beside the target, then rename over it (atomic; a running process keeps
# its open copy).
"${SUDO[@]}" install -m 0755 -o root -g root "$binary" "$INSTALL_PATH.new" ||
  die "cannot copy the binary to $INSTALL_PATH.new"
"${SUDO[@]}" mv -f "$INSTALL_PATH.new" "$INSTALL_PATH" || die "cannot move the binary into place at $INSTALL_PATH"
for dir in "$CONFIG_DIR" "$STATE_DIR"; do
  "${SUDO[@]}" install -d -m 0750 -o "$user" -g "$group" "$dir" ||
    die "cannot create $dir owned by $user:$group"
done

# 6. Check the installed copy.
installed=$("$INSTALL_PATH" --version 2>&1) || die "$INSTALL_PATH --version failed: $installed"
[ "$installed" = "$version" ] || die "$INSTALL_PATH reports '$installed', expected '$version'"
log "installed $installed at $INSTALL_PATH; $CONFIG_DIR and $STATE_DIR owned by $user:$group"
