#!/bin/sh
# Prints the root filesystem as this container sees it: every path with type, mode, owner, and for
# non-directories link count and link target; the content hash of every regular file; every file
# capability. A workload's last RUN writes it to /kiln-tree.txt and the test runs it again under
# podman: any difference is something the image lost on its way. Left out: the kernel's and the
# runtime's own (/proc, /sys, /dev, /run, the files runtimes bind in, /etc/mtab which podman makes when
# an image has none), directory link counts (overlayfs reports 1) and the root's mode (podman's 0555).
set -eu
cd /
skip='( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run -o -path ./etc/hosts -o -path ./etc/hostname -o -path ./etc/resolv.conf -o -path ./etc/mtab -o -path ./kiln-tree.txt )'
# shellcheck disable=SC2086
find . -mindepth 1 -xdev $skip -prune -o -type d -printf '%p d %m %U:%G\n' -o -printf '%p %y %m %U:%G %n %l\n' | sort
# shellcheck disable=SC2086
find . -mindepth 1 -xdev $skip -prune -o -type f -print0 | sort -z | xargs -0 sha256sum
if command -v getcap >/dev/null; then getcap -r . 2>/dev/null | sort; fi
