/*
 * /kiln/executor and /kaniko/executor (`kiln executor ARGS`, Kaniko's command line), /kiln/warmer and
 * /kaniko/warmer (`kiln warmer ARGS`, Kaniko's warmer; -DKILN_COMMAND='"warmer"') and /kiln/kiln
 * (`kiln ARGS`, built with -DKILN_COMMAND=): run the bundled Kiln CLI with the image's own Node, passing
 * every argument through. Static, so it needs no shell, no /lib and no interpreter line: Kubernetes
 * `args`, Tekton `command` and GitLab's `entrypoint: [""]` all exec it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef KILN_NODE
#define KILN_NODE "/kiln/node"
#endif
#ifndef KILN_MAIN
#define KILN_MAIN "/kiln/kiln.mjs"
#endif
/*
 * Node 24's V8 starts the young generation at a 1 MB semi-space and grows it scavenge by scavenge
 * (to 128 MB under a large build): a small build (startup, pull, five steps, push) spends eight
 * scavenges, about 20 ms, growing it. Starting at 16 MB costs about 4 MB of RSS and no scavenge in a
 * small build. The maximum is 16 MB too: V8's own let the Debian 20k build's young generation grow to
 * 57 MB, and the tar blocks and gzip members it held waited that much longer for a scavenge (about
 * 27 MiB more peak RSS, no measurable time). Neither flag is part of V8's flag hash: the compile cache
 * still applies.
 */
#ifndef KILN_NODE_FLAGS
#define KILN_NODE_FLAGS "--min-semi-space-size=16"
#endif
#ifndef KILN_NODE_MAX_FLAGS
#define KILN_NODE_MAX_FLAGS "--max-semi-space-size=16"
#endif
/*
 * glibc gives each thread that allocates its own malloc arena (up to 8 per core): V8's GC helpers and
 * libuv's pool (gzip, fs) each kept freed memory in theirs, about 25 MiB of the Debian 20k build's peak.
 * One arena, unless the caller chose. And a fixed mmap threshold: glibc's own rises to the largest
 * block freed, after which the 1 MiB buffers of layers came from the heap and, once V8 collected them,
 * stayed resident (up to 60 MiB); mapped, they go back to the kernel when freed. Node alone reads
 * these: RUN commands get the image's environment, not this process's.
 */
#ifndef KILN_MALLOC_ARENA_MAX
#define KILN_MALLOC_ARENA_MAX "1"
#endif
#ifndef KILN_MALLOC_MMAP_THRESHOLD
#define KILN_MALLOC_MMAP_THRESHOLD "131072"
#endif
#ifndef KILN_COMMAND
#define KILN_COMMAND "executor"
#endif

int main(int argc, char **argv) {
  char **args = calloc((size_t)argc + 5, sizeof(char *));
  if (args == NULL) {
    fputs("kiln executor: out of memory\n", stderr);
    return 127;
  }
  int n = 0;
  args[n++] = KILN_NODE;
  args[n++] = KILN_NODE_FLAGS;
  args[n++] = KILN_NODE_MAX_FLAGS;
  args[n++] = KILN_MAIN;
  if (KILN_COMMAND[0] != '\0') args[n++] = KILN_COMMAND;
  for (int i = 1; i < argc; i++) args[n++] = argv[i];
  args[n] = NULL;
  setenv("MALLOC_ARENA_MAX", KILN_MALLOC_ARENA_MAX, 0);
  setenv("MALLOC_MMAP_THRESHOLD_", KILN_MALLOC_MMAP_THRESHOLD, 0);
  execv(KILN_NODE, args);
  fprintf(stderr, "kiln executor: cannot run %s: %s\n", KILN_NODE, strerror(errno));
  return 127;
}
