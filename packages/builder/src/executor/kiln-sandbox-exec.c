/*
 * kiln-sandbox-exec: confines the process it becomes, then execs a command. Used by the sandbox
 * executor (sandboxExecutor.ts) where the tool that made the namespaces cannot finish the job:
 * bubblewrap run as real root keeps the full capability bounding set, and the unshare fallback
 * has no way at all to drop capabilities or install a seccomp filter, and enters the root with
 * chroot(2), which a root holding CAP_SYS_CHROOT (Docker's set has it) climbs out of.
 *
 *   kiln-sandbox-exec --caps HEX [--seccomp-fd N] [--root DIR] [--user UID:GID] [--groups G,G]
 *                     [--cwd DIR] -- command [args...]
 *
 * In this order: with --root, DIR (a mount point) becomes / by pivot_root and the old root is
 * detached, so nothing outside DIR stays reachable; no_new_privs on; every capability outside HEX
 * dropped from the bounding set; ambient and inheritable cleared; with --user/--groups the
 * supplementary groups, gid and uid set (a non-zero uid loses every capability); permitted and
 * effective set to HEX (as far as they are still held); the seccomp program read from fd N
 * (struct sock_filter[], to EOF) installed; every fd above 2 closed; --cwd entered; exec (PATH
 * from the environment).
 * Any failure exits 126 before the command runs: nothing ever runs half-confined.
 *
 * Static (`gcc -static -O2`), so it runs in any stage root. Built by scripts/bootstrap.sh.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static void fail(const char *what) {
  fprintf(stderr, "kiln-sandbox-exec: %s: %s\n", what, strerror(errno));
  exit(126);
}

static void usage(void) {
  fprintf(stderr, "usage: kiln-sandbox-exec --caps HEX [--seccomp-fd N] [--root DIR] [--user UID:GID]"
                  " [--groups G,G] [--cwd DIR] -- command [args...]\n");
  exit(126);
}

int main(int argc, char **argv) {
  uint64_t caps = 0;
  int have_caps = 0, seccomp_fd = -1, i = 1;
  const char *root = NULL, *user = NULL, *groups = NULL, *cwd = NULL;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) { i++; break; }
    if (i + 1 >= argc) usage();
    if (strcmp(argv[i], "--caps") == 0) { caps = strtoull(argv[++i], NULL, 16); have_caps = 1; }
    else if (strcmp(argv[i], "--seccomp-fd") == 0) seccomp_fd = atoi(argv[++i]);
    else if (strcmp(argv[i], "--root") == 0) root = argv[++i];
    else if (strcmp(argv[i], "--user") == 0) user = argv[++i];
    else if (strcmp(argv[i], "--groups") == 0) groups = argv[++i];
    else if (strcmp(argv[i], "--cwd") == 0) cwd = argv[++i];
    else usage();
  }
  if (!have_caps || i >= argc) usage();

  if (root != NULL) {
    /* pivot_root(".", "."): the old root ends up stacked on the new one, then detached. */
    if (chdir(root) != 0) fail("chdir to the root");
    if (syscall(SYS_pivot_root, ".", ".") != 0) fail("pivot_root");
    if (umount2(".", MNT_DETACH) != 0) fail("detaching the old root");
    if (chdir("/") != 0) fail("chdir /");
  }

  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("no_new_privs");
  /* Drop every capability the kernel knows beyond the set; EINVAL marks the end of the list. */
  for (int cap = 0; cap < 64; cap++) {
    if (caps & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EINVAL) break;
      fail("bounding set");
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) fail("ambient");

  if (groups != NULL) {
    gid_t list[64];
    size_t count = 0;
    for (const char *p = groups; *p != '\0' && count < 64;) {
      char *end;
      list[count++] = (gid_t)strtoul(p, &end, 10);
      if (end == p) usage();
      p = *end == ',' ? end + 1 : end;
    }
    if (setgroups(count, list) != 0) fail("setgroups");
  }
  if (user != NULL) {
    char *end;
    uid_t uid = (uid_t)strtoul(user, &end, 10);
    if (*end != ':') usage();
    gid_t gid = (gid_t)strtoul(end + 1, NULL, 10);
    if (setgid(gid) != 0) fail("setgid");
    if (setuid(uid) != 0) fail("setuid");
  }

  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &header, data) != 0) fail("capget");
  for (int word = 0; word < 2; word++) {
    uint32_t keep = (uint32_t)(caps >> (32 * word));
    data[word].permitted &= keep;
    data[word].effective = data[word].permitted;
    data[word].inheritable = 0; /* as Docker since CVE-2022-24769 */
  }
  if (syscall(SYS_capset, &header, data) != 0) fail("capset");

  if (seccomp_fd >= 0) {
    size_t size = 0, capacity = 4096;
    unsigned char *bytes = malloc(capacity);
    if (bytes == NULL) fail("malloc");
    for (;;) {
      if (size == capacity) {
        capacity *= 2;
        bytes = realloc(bytes, capacity);
        if (bytes == NULL) fail("realloc");
      }
      ssize_t got = read(seccomp_fd, bytes + size, capacity - size);
      if (got < 0) {
        if (errno == EINTR) continue;
        fail("reading the seccomp program");
      }
      if (got == 0) break;
      size += (size_t)got;
    }
    close(seccomp_fd);
    if (size == 0 || size % sizeof(struct sock_filter) != 0 || size / sizeof(struct sock_filter) > 4096) {
      errno = EINVAL;
      fail("seccomp program");
    }
    struct sock_fprog program = {(unsigned short)(size / sizeof(struct sock_filter)), (struct sock_filter *)bytes};
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) != 0) fail("seccomp");
  }

  if (cwd != NULL && chdir(cwd) != 0) fail(cwd);
  /* Nothing the build's own process tree inherited (fds without close-on-exec) reaches RUN. */
  if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
    for (int fd = 3; fd < 1024; fd++) close(fd);
  }
  execvp(argv[i], argv + i);
  fprintf(stderr, "kiln-sandbox-exec: %s: %s\n", argv[i], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
