/* `ssh-add -l` in miniature, static so it runs in a busybox image: asks the agent at
 * $SSH_AUTH_SOCK for its identities (SSH2_AGENTC_REQUEST_IDENTITIES) and prints their comments. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int read_full(int fd, unsigned char *buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t got = read(fd, buf + done, n - done);
    if (got <= 0) return -1;
    done += (size_t)got;
  }
  return 0;
}

static uint32_t u32(const unsigned char *p) { return ((uint32_t)p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }

int main(void) {
  const char *path = getenv("SSH_AUTH_SOCK");
  if (!path) { puts("no SSH_AUTH_SOCK"); return 2; }
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {0};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("connect"); return 3; }
  unsigned char request[5] = {0, 0, 0, 1, 11};
  if (write(fd, request, 5) != 5) return 4;
  unsigned char header[4];
  if (read_full(fd, header, 4) != 0) return 5;
  uint32_t length = u32(header);
  unsigned char *message = malloc(length);
  if (!message || length < 5 || read_full(fd, message, length) != 0) return 6;
  if (message[0] != 12) { printf("unexpected answer %d\n", message[0]); return 7; }
  uint32_t keys = u32(message + 1);
  size_t at = 5;
  printf("%u keys\n", keys);
  for (uint32_t i = 0; i < keys; i++) {
    at += 4 + u32(message + at);
    uint32_t comment = u32(message + at);
    at += 4;
    printf("%.*s\n", (int)comment, (const char *)message + at);
    at += comment;
  }
  return 0;
}
