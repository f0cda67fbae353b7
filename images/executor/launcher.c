/*
 * /kiln/executor and /kaniko/executor: runs the bundled Kiln CLI with the image's own Node,
 * passing every argument through. A static binary, so it needs no shell, no /lib and no
 * interpreter line: Kubernetes `args`, Tekton `command` and GitLab's `entrypoint: [""]` all exec it.
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

int main(int argc, char **argv) {
  char **args = calloc((size_t)argc + 2, sizeof(char *));
  if (args == NULL) {
    fputs("kiln executor: out of memory\n", stderr);
    return 127;
  }
  args[0] = KILN_NODE;
  args[1] = KILN_MAIN;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
  args[argc + 1] = NULL;
  execv(KILN_NODE, args);
  fprintf(stderr, "kiln executor: cannot run %s: %s\n", KILN_NODE, strerror(errno));
  return 127;
}
