/*
 * /kiln/kiln-xattr: Kiln's xattr helper for the executor image, which has no python3. It speaks exactly
 * the protocols of the Python scripts in packages/snapshot/src/readXattrs.ts and
 * packages/layer/src/setXattrs.ts, so the TypeScript side parses both the same way.
 *
 *   kiln-xattr get   stdin: NUL-separated paths (relative to cwd; a trailing NUL optional).
 *                    stdout: for each path with xattrs, in input order,
 *                    `seq\0count\0name\0hexvalue\0...` (seq = the path's 0-based position).
 *                    Symlinks are not followed; unreadable paths and paths without xattrs are skipped.
 *   kiln-xattr get-dirs  stdin: NUL-separated directory paths (relative to cwd, `.` for cwd itself).
 *                    stdout: for each entry of each directory with xattrs,
 *                    `seq\0entryname\0count\0name\0hexvalue\0...` (seq = the directory's position).
 *                    One listing per directory instead of one path per entry: a first snapshot sends
 *                    a few thousand directories, not every path, and each lookup is relative to the
 *                    directory (fchdir), not a walk down the whole path. Symlinked directories are skipped.
 *   kiln-xattr walk  stdin: NUL-separated relative paths to leave out, with everything under them.
 *                    stdout: the tree under cwd, depth-first in the byte order of the paths (a directory
 *                    at its name, its children at `name/`), as binary records (see run_walk). A first
 *                    snapshot's whole listing: every entry's xattrs, and lstat data for all but regular
 *                    files (the hash worker that opens one fstats it). Lookups are relative to an open
 *                    directory, and on this side of the pipe the walk costs no JS at all.
 *   kiln-xattr set   stdin: JSON `[[path, name, hexvalue], ...]`.
 *                    stdout: JSON `[[path, name, strerror], ...]` for the ones lsetxattr refused.
 *
 * Static (`gcc -static -O2`), so it runs with no /lib at all. Exit 0 at end of input; 1 on malformed
 * input or a write error; 2 on usage errors.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

static void die(const char *message) {
  fprintf(stderr, "kiln-xattr: %s\n", message);
  exit(1);
}

static void *xrealloc(void *p, size_t size) {
  void *q = realloc(p, size == 0 ? 1 : size);
  if (q == NULL) die("out of memory");
  return q;
}

/* A growable byte buffer. */
struct buf {
  char *data;
  size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t extra) {
  if (extra > (size_t)-1 - b->len - 1) die("out of memory");
  if (b->len + extra + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + extra + 1) {
    if (cap > (size_t)-1 / 2) die("out of memory");
    cap *= 2;
  }
  b->data = xrealloc(b->data, cap);
  b->cap = cap;
}

static void buf_put(struct buf *b, const void *p, size_t n) {
  buf_reserve(b, n);
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

static void buf_putc(struct buf *b, char c) { buf_put(b, &c, 1); }

static void write_all(const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(1, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("cannot write to stdout");
    }
    p += w;
    n -= (size_t)w;
  }
}

/* Appends all of stdin to `input` (NUL-terminated, as every buf). */
static void read_all_stdin(struct buf *input) {
  for (;;) {
    buf_reserve(input, 1 << 16);
    ssize_t r = read(0, input->data + input->len, input->cap - input->len - 1);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("cannot read stdin");
    }
    if (r == 0) break;
    input->len += (size_t)r;
  }
}

/* Lists `path`'s xattr names (NUL-separated) into *names; returns the byte length, or -1. */
static ssize_t list_names(const char *path, char **names) {
  for (int attempt = 0; attempt < 8; attempt++) {
    ssize_t size = llistxattr(path, NULL, 0);
    if (size <= 0) return size;
    *names = xrealloc(*names, (size_t)size);
    ssize_t got = llistxattr(path, *names, (size_t)size);
    if (got >= 0) return got;
    if (errno != ERANGE) return -1; /* ERANGE: the list grew in between; ask again */
  }
  return -1;
}

/* Reads one value into *value; returns its length, or -1 (then the value counts as empty). */
static ssize_t read_value(const char *path, const char *name, unsigned char **value) {
  for (int attempt = 0; attempt < 8; attempt++) {
    ssize_t size = lgetxattr(path, name, NULL, 0);
    if (size <= 0) return size;
    *value = xrealloc(*value, (size_t)size);
    ssize_t got = lgetxattr(path, name, *value, (size_t)size);
    if (got >= 0) return got;
    if (errno != ERANGE) return -1;
  }
  return -1;
}

/* `seq\0[entry\0]count\0name\0hex\0...` for `path` when it has xattrs; `entry` NULL in `get` mode. */
static void answer(long long seq, const char *entry, const char *path, struct buf *out) {
  static char *names = NULL;
  static unsigned char *value = NULL;
  static const char hex[] = "0123456789abcdef";
  ssize_t size = list_names(path, &names);
  if (size <= 0) return;
  size_t count = 0;
  for (ssize_t i = 0; i < size; i += (ssize_t)strnlen(names + i, (size_t)(size - i)) + 1) count++;
  char number[32];
  int n = snprintf(number, sizeof number, "%lld", seq);
  buf_put(out, number, (size_t)n + 1);
  if (entry != NULL) buf_put(out, entry, strlen(entry) + 1);
  n = snprintf(number, sizeof number, "%zu", count);
  buf_put(out, number, (size_t)n + 1);
  for (ssize_t i = 0; i < size;) {
    size_t len = strnlen(names + i, (size_t)(size - i));
    char *name = names + i;
    /* The kernel terminates every name; copy defensively in case the last one is not. */
    char *owned = NULL;
    if ((ssize_t)(i + len) >= size) {
      owned = xrealloc(NULL, len + 1);
      memcpy(owned, name, len);
      owned[len] = '\0';
      name = owned;
    }
    buf_put(out, name, len + 1);
    ssize_t vlen = read_value(path, name, &value);
    if (vlen > 0) {
      buf_reserve(out, (size_t)vlen * 2);
      for (ssize_t k = 0; k < vlen; k++) {
        out->data[out->len++] = hex[value[k] >> 4];
        out->data[out->len++] = hex[value[k] & 15];
      }
    }
    buf_putc(out, '\0');
    free(owned);
    i += (ssize_t)len + 1;
  }
  if (out->len >= (1 << 16)) {
    write_all(out->data, out->len);
    out->len = 0;
  }
}

/* Calls `each(seq, item, out)` for every NUL-separated item on stdin (a trailing NUL optional). */
static void for_each_input(void (*each)(long long, const char *, struct buf *), struct buf *out) {
  struct buf pending = {0};
  long long seq = -1;
  char chunk[1 << 16];
  for (;;) {
    ssize_t r = read(0, chunk, sizeof chunk);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("cannot read stdin");
    }
    if (r == 0) break;
    size_t start = 0;
    for (size_t i = 0; i < (size_t)r; i++) {
      if (chunk[i] != '\0') continue;
      const char *path;
      if (pending.len > 0) {
        buf_put(&pending, chunk + start, i - start);
        path = pending.data;
      } else {
        path = chunk + start;
      }
      seq++;
      each(seq, path, out);
      pending.len = 0;
      start = i + 1;
    }
    buf_put(&pending, chunk + start, (size_t)r - start);
  }
  if (pending.len > 0) {
    seq++;
    each(seq, pending.data, out);
  }
  free(pending.data);
}

static void answer_path(long long seq, const char *path, struct buf *out) { answer(seq, NULL, path, out); }

static int run_get(void) {
  struct buf out = {0};
  for_each_input(answer_path, &out);
  write_all(out.data, out.len);
  return 0;
}

static int start_dir = -1;

static void answer_dir(long long seq, const char *dir, struct buf *out) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return; /* vanished, replaced, or a symlink: nothing to answer */
  DIR *listing = fdopendir(fd);
  if (listing == NULL) {
    close(fd);
    return;
  }
  if (fchdir(fd) == 0) {
    struct dirent *entry;
    while ((entry = readdir(listing)) != NULL) {
      const char *name = entry->d_name;
      if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
      answer(seq, name, name, out);
    }
    if (fchdir(start_dir) != 0) die("cannot return to the starting directory");
  }
  closedir(listing);
}

static int run_get_dirs(void) {
  start_dir = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (start_dir < 0) die("cannot open the current directory");
  struct buf out = {0};
  for_each_input(answer_dir, &out);
  write_all(out.data, out.len);
  return 0;
}

/* --- walk: binary records, each `u32 length` (little-endian, of what follows) then a tag byte ---
 *   'E' an entry:  u8 stat'ed (0: a regular file by its directory entry, not stat'ed), u16 name length,
 *                  name; if stat'ed: u32 mode, uid, gid, nlink, u64 size, dev, ino, rdev, i64 mtime and
 *                  ctime in ns; for a symlink: u16 target length, target; then u16 xattr count and per
 *                  xattr u16 name length, name, u32 value length, value.
 *   'P' enter the directory named (u16 length, name) as the walk reaches `name/`;  'O' leave it.
 *   'V' vanished between readdir and lstat, 'U' not valid UTF-8 (u16 length, name; not entered).
 *   'F' a directory that cannot be read: i32 errno, u16 length, its path relative to the root.
 * Numbers are little-endian. Exit 0 at the end of the walk, 1 on a write error. */

static struct buf out;
static struct buf rel; /* the directory being walked, relative to the root ('' for the root) */
static char **ignored;
static size_t *ignored_len, ignored_count;

static void put_le(uint64_t v, int bytes) {
  char b[8];
  for (int i = 0; i < bytes; i++) b[i] = (char)(v >> (8 * i));
  buf_put(&out, b, (size_t)bytes);
}

static size_t begin_record(char tag) {
  size_t at = out.len;
  put_le(0, 4);
  buf_putc(&out, tag);
  return at;
}

static void end_record(size_t at) {
  uint32_t len = (uint32_t)(out.len - at - 4);
  for (int i = 0; i < 4; i++) out.data[at + i] = (char)(len >> (8 * i));
  if (out.len >= (1 << 16)) {
    write_all(out.data, out.len);
    out.len = 0;
  }
}

static void name_record(char tag, const char *name, size_t len) {
  size_t at = begin_record(tag);
  put_le(len, 2);
  buf_put(&out, name, len);
  end_record(at);
}

static void failure_record(int error, const char *name) {
  size_t at = begin_record('F');
  put_le((uint32_t)error, 4);
  size_t len = rel.len + (rel.len > 0 && name != NULL ? 1 : 0) + (name != NULL ? strlen(name) : 0);
  put_le(len, 2);
  buf_put(&out, rel.data ? rel.data : "", rel.len);
  if (name != NULL) {
    if (rel.len > 0) buf_putc(&out, '/');
    buf_put(&out, name, strlen(name));
  }
  end_record(at);
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF), as Node decodes names. */
static int valid_utf8(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len == 0 || i + len > n) return 0;
    unsigned c1 = s[i + 1];
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) ||
        (c == 0xf4 && c1 > 0x8f))
      return 0;
    for (size_t k = 1; k < len; k++)
      if ((s[i + k] & 0xc0) != 0x80) return 0;
    i += len;
  }
  return 1;
}

static int is_ignored(const char *name, size_t len) {
  size_t total = rel.len + (rel.len > 0 ? 1 : 0) + len;
  for (size_t i = 0; i < ignored_count; i++) {
    const char *rule = ignored[i];
    if (ignored_len[i] != total || memcmp(rule, rel.data ? rel.data : "", rel.len) != 0) continue;
    size_t at = rel.len;
    if (rel.len > 0 && rule[at++] != '/') continue;
    if (memcmp(rule + at, name, len) == 0) return 1;
  }
  return 0;
}

enum { ENTRY_FILE, ENTRY_STAT, ENTRY_VANISHED, ENTRY_UNDECODABLE, ENTRY_IGNORED };

struct walk_entry {
  char *name;
  size_t name_len;
  int kind;
  struct stat st;
  char *link;
  size_t link_len;
  struct buf xattrs; /* already encoded: count, then name/value pairs */
};

/* A sort key: the entry's name, or `name/` for where the walk enters a directory. */
struct walk_item {
  struct walk_entry *entry;
  int enter;
};

static int item_cmp(const void *pa, const void *pb) {
  const struct walk_item *a = pa, *b = pb;
  size_t la = a->entry->name_len + (size_t)a->enter, lb = b->entry->name_len + (size_t)b->enter;
  size_t n = la < lb ? la : lb;
  for (size_t i = 0; i < n; i++) {
    unsigned char ca = i < a->entry->name_len ? (unsigned char)a->entry->name[i] : '/';
    unsigned char cb = i < b->entry->name_len ? (unsigned char)b->entry->name[i] : '/';
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  return la < lb ? -1 : la > lb ? 1 : 0;
}

/* `path`'s xattrs (relative to cwd), encoded into x: u16 count, then per xattr u16 name length, name,
 * u32 value length, value. */
static void read_xattrs_into(const char *path, struct buf *x) {
  static char *names = NULL;
  static unsigned char *value = NULL;
  ssize_t size = list_names(path, &names);
  size_t count = 0;
  size_t head_at = x->len;
  buf_put(x, "\0\0", 2);
  for (ssize_t i = 0; size > 0 && i < size;) {
    size_t len = strnlen(names + i, (size_t)(size - i));
    char name[256];
    if (len >= sizeof name) break;
    memcpy(name, names + i, len);
    name[len] = '\0';
    ssize_t vlen = read_value(path, name, &value);
    if (vlen < 0) vlen = 0;
    char head[2] = {(char)len, (char)(len >> 8)};
    buf_put(x, head, 2);
    buf_put(x, name, len);
    char vhead[4] = {(char)vlen, (char)(vlen >> 8), (char)(vlen >> 16), (char)(vlen >> 24)};
    buf_put(x, vhead, 4);
    buf_put(x, value, (size_t)vlen);
    count++;
    i += (ssize_t)len + 1;
  }
  x->data[head_at] = (char)count;
  x->data[head_at + 1] = (char)(count >> 8);
}

/* The entry's xattrs, read relative to cwd (the directory being walked). */
static void read_xattrs(struct walk_entry *e) { read_xattrs_into(e->name, &e->xattrs); }

static void entry_record(struct walk_entry *e) {
  if (e->kind == ENTRY_VANISHED || e->kind == ENTRY_UNDECODABLE) {
    name_record(e->kind == ENTRY_VANISHED ? 'V' : 'U', e->name, e->name_len);
    return;
  }
  size_t at = begin_record('E');
  buf_putc(&out, (char)(e->kind == ENTRY_STAT));
  put_le(e->name_len, 2);
  buf_put(&out, e->name, e->name_len);
  if (e->kind == ENTRY_STAT) {
    const struct stat *st = &e->st;
    put_le(st->st_mode, 4);
    put_le(st->st_uid, 4);
    put_le(st->st_gid, 4);
    put_le((uint64_t)st->st_nlink, 4);
    put_le((uint64_t)st->st_size, 8);
    put_le((uint64_t)st->st_dev, 8);
    put_le((uint64_t)st->st_ino, 8);
    put_le((uint64_t)st->st_rdev, 8);
    put_le((uint64_t)((int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec), 8);
    put_le((uint64_t)((int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec), 8);
    if (S_ISLNK(st->st_mode)) {
      put_le(e->link_len, 2);
      buf_put(&out, e->link ? e->link : "", e->link_len);
    }
  }
  buf_put(&out, e->xattrs.data, e->xattrs.len);
  end_record(at);
}

static void walk_dir(int dirfd) {
  if (fchdir(dirfd) != 0) {
    failure_record(errno, NULL);
    return;
  }
  /* getdents64 on the directory's own fd: no dup, fdopendir's fstat or second close per directory. */
  struct walk_entry *entries = NULL;
  size_t count = 0, cap = 0;
  static char dents[1 << 15];
  int read_error = 0;
  for (;;) {
    ssize_t got = getdents64(dirfd, dents, sizeof dents);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      if (got < 0) read_error = errno;
      break;
    }
    for (ssize_t at = 0; at < got;) {
      struct dirent64 *d = (struct dirent64 *)(dents + at);
      at += d->d_reclen;
      const char *name = d->d_name;
      if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
      if (count == cap) {
        cap = cap ? cap * 2 : 64;
        entries = xrealloc(entries, cap * sizeof *entries);
      }
      struct walk_entry *e = &entries[count++];
      memset(e, 0, sizeof *e);
      e->name_len = strlen(name);
      e->name = xrealloc(NULL, e->name_len + 1);
      memcpy(e->name, name, e->name_len + 1);
      e->kind = d->d_type == DT_REG ? ENTRY_FILE : ENTRY_STAT;
    }
  }
  if (read_error != 0) {
    failure_record(read_error, NULL);
    for (size_t i = 0; i < count; i++) free(entries[i].name);
    count = 0;
  }
  size_t items = 0;
  struct walk_item *order = xrealloc(NULL, (2 * count + 1) * sizeof *order);
  for (size_t i = 0; i < count; i++) {
    struct walk_entry *e = &entries[i];
    if (!valid_utf8((const unsigned char *)e->name, e->name_len)) {
      e->kind = ENTRY_UNDECODABLE;
    } else if (is_ignored(e->name, e->name_len)) {
      e->kind = ENTRY_IGNORED;
      continue;
    } else if (e->kind == ENTRY_STAT) {
      if (fstatat(dirfd, e->name, &e->st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT) {
          failure_record(errno, e->name);
          continue;
        }
        e->kind = ENTRY_VANISHED;
      } else if (S_ISREG(e->st.st_mode)) {
        e->kind = ENTRY_FILE;
      } else if (S_ISLNK(e->st.st_mode)) {
        e->link = xrealloc(NULL, 4096);
        ssize_t n = readlinkat(dirfd, e->name, e->link, 4096);
        e->link_len = n > 0 ? (size_t)n : 0;
      }
    }
    order[items++] = (struct walk_item){e, 0};
    if (e->kind == ENTRY_FILE || e->kind == ENTRY_STAT) read_xattrs(e);
    if (e->kind == ENTRY_STAT && S_ISDIR(e->st.st_mode)) order[items++] = (struct walk_item){e, 1};
  }
  qsort(order, items, sizeof *order, item_cmp);
  for (size_t i = 0; i < items; i++) {
    struct walk_entry *e = order[i].entry;
    if (!order[i].enter) {
      entry_record(e);
      continue;
    }
    int child = openat(dirfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child < 0) {
      /* Removed or replaced since it was listed: nothing under it to report. */
      if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP) failure_record(errno, e->name);
      continue;
    }
    name_record('P', e->name, e->name_len);
    size_t saved = rel.len;
    if (rel.len > 0) buf_putc(&rel, '/');
    buf_put(&rel, e->name, e->name_len);
    walk_dir(child);
    rel.len = saved;
    rel.data[saved] = '\0';
    close(child);
    size_t at = begin_record('O');
    end_record(at);
  }
  for (size_t i = 0; i < count; i++) {
    free(entries[i].name);
    free(entries[i].link);
    free(entries[i].xattrs.data);
  }
  free(entries);
  free(order);
}

static int run_walk(void) {
  struct buf input = {0};
  read_all_stdin(&input);
  for (size_t i = 0; i < input.len; i += strlen(input.data + i) + 1) {
    if (input.data[i] == '\0') continue;
    ignored = xrealloc(ignored, (ignored_count + 1) * sizeof *ignored);
    ignored_len = xrealloc(ignored_len, (ignored_count + 1) * sizeof *ignored_len);
    ignored[ignored_count] = input.data + i;
    ignored_len[ignored_count++] = strlen(input.data + i);
  }
  buf_reserve(&rel, 0);
  int root = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) failure_record(errno, NULL);
  else walk_dir(root);
  write_all(out.data, out.len);
  return 0;
}

/* --- rescan: the walk of a tree snapshotted before, compared in here so that only changes cross ---
 * stdin (numbers little-endian): "KRS1", u32 threads, u32 flags (1: read xattrs of changed entries),
 *   u32 ignored length, the ignored prefixes (NUL-separated, as for walk); then the previous snapshot:
 *   u32 count, u32 path bytes, u32 link bytes, the paths (count NUL-terminated, sorted in byte order),
 *   the columns packed one after the other: u8 type (Kiln's codes: 0 file, 1 dir, 2 symlink, 3 char,
 *   4 block, 5 fifo), u16 mode (& 07777), u32 uid, u32 gid, u32 nlink, f64 size (files, else 0), f64 dev,
 *   f64 ino, f64 rdev (devices, else 0), i64 mtime ns, i64 ctime ns; then the symlink targets as
 *   records of u32 row, u32 length, target.
 * stdout: records as walk's (u32 length, tag), in path order of the new tree:
 *   'K' u32 start, u32 count: the previous rows start..start+count-1 are there, every field the same;
 *   'E' u32 previous row (0xffffffff: new), u16 path length, path, then as walk's 'E' for a stat'ed entry
 *       (stat, symlink target, xattrs: read only with flag 1, else a count of 0);
 *   'V', 'U' u16 length, path (vanished, not valid UTF-8); 'F' as walk's.
 * Rows of the previous snapshot that no record names are gone. Threads list and lstat directories in
 * any order (each child opened relative to its open parent, O_NOFOLLOW: a swapped-in symlink is never
 * followed), while this thread reads the previous snapshot; then this thread merges the two in order. */

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/vfs.h>

/* Bump allocation from big prefaulted chunks, per thread: the walk's memory is freed only by exit, and
 * malloc in threads grows its arenas with one mprotect per few pages (34,000 calls on 230k entries). */
static void *chunk_of(size_t size) {
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) die("out of memory");
  return p;
}

static void *bump(size_t size) {
  static __thread char *at;
  static __thread size_t left;
  size = (size + 7) & ~(size_t)7;
  if (size > left) {
    size_t chunk = size > (1u << 22) ? size : 1u << 22;
    at = chunk_of(chunk);
    left = chunk;
  }
  void *p = at;
  at += size;
  left -= size;
  return p;
}

/* What the comparison needs of an lstat. */
struct rstat {
  uint32_t mode, uid, gid, nlink;
  uint64_t size, dev, ino, rdev;
  int64_t mtime, ctime;
};

enum { R_STAT, R_VANISHED, R_UNDECODABLE, R_FAILED };

struct rnode;

struct rentry {
  char *name;
  uint32_t name_len, link_len;
  int kind, error;
  struct rstat st;
  char *link;
  struct rnode *child;
};

struct ritem {
  struct rentry *entry;
  int enter;
};

struct rnode {
  char *rel; /* relative to the root, '' for the root */
  size_t rel_len;
  struct rentry *entries;
  size_t count;
  struct ritem *order;
  size_t items;
  int fd;
  int pending; /* children not yet opened: the fd is closed when it reaches 0 (under the queue lock) */
  int missing; /* removed or replaced since its parent was listed */
  int error;   /* opening or reading failed with this errno */
  uint64_t dev; /* as lstat saw it from the parent */
};

struct rjob {
  struct rnode *parent; /* NULL for the root */
  struct rentry *entry;
};

static pthread_mutex_t rq_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rq_ready = PTHREAD_COND_INITIALIZER;
static struct rjob *rq;
static size_t rq_len, rq_cap, rq_busy;
static int root_fd = -1;
static struct rnode root_node;

static int ritem_cmp(const void *pa, const void *pb) {
  const struct ritem *a = pa, *b = pb;
  size_t na = a->entry->name_len, nb = b->entry->name_len;
  size_t la = na + (size_t)a->enter, lb = nb + (size_t)b->enter;
  size_t n = la < lb ? la : lb;
  for (size_t i = 0; i < n; i++) {
    unsigned char ca = i < na ? (unsigned char)a->entry->name[i] : '/';
    unsigned char cb = i < nb ? (unsigned char)b->entry->name[i] : '/';
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  return la < lb ? -1 : la > lb ? 1 : 0;
}

static int rescan_ignored(const struct rnode *node, const char *name, size_t len) {
  size_t total = node->rel_len + (node->rel_len > 0 ? 1 : 0) + len;
  for (size_t i = 0; i < ignored_count; i++) {
    const char *rule = ignored[i];
    if (ignored_len[i] != total || memcmp(rule, node->rel, node->rel_len) != 0) continue;
    size_t at = node->rel_len;
    if (node->rel_len > 0 && rule[at++] != '/') continue;
    if (memcmp(rule + at, name, len) == 0) return 1;
  }
  return 0;
}

static int64_t ns_of(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec; }

/* Set when the root is on ext4, xfs, btrfs or tmpfs (see rescan_list), whose device is root_dev. */
static int short_reads_end;
static uint64_t root_dev;

/* Lists and lstats one opened directory into `node`; returns how many subdirectories it has. */
static size_t rescan_list(struct rnode *node) {
  static __thread char *dents, *target;
  static __thread struct rentry *scratch;
  static __thread size_t scratch_cap;
  if (dents == NULL) {
    dents = xrealloc(NULL, 1 << 16);
    target = xrealloc(NULL, 4096);
  }
  size_t count = 0;
  for (;;) {
    long got = syscall(SYS_getdents64, node->fd, dents, 1 << 16);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      if (got < 0) node->error = errno;
      break;
    }
    for (long at = 0; at < got;) {
      struct dirent64 *d = (struct dirent64 *)(dents + at);
      at += d->d_reclen;
      const char *name = d->d_name;
      if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
      size_t len = strlen(name);
      if (rescan_ignored(node, name, len)) continue;
      if (count == scratch_cap) {
        scratch_cap = scratch_cap ? scratch_cap * 2 : 256;
        scratch = xrealloc(scratch, scratch_cap * sizeof *scratch);
      }
      struct rentry *e = &scratch[count++];
      memset(e, 0, sizeof *e);
      e->name_len = (uint32_t)len;
      e->name = bump(len + 1);
      memcpy(e->name, name, len + 1);
    }
    /* These filesystems fill the buffer until it is full or the directory ends: a reply with room left
     * for the longest record is the end, and the call that would say so is saved (one per directory). */
    if (short_reads_end && node->dev == root_dev && got + 512 < (1 << 16)) break;
  }
  if (node->error != 0) count = 0; /* the failure is reported; its entries are not */
  node->count = count;
  node->entries = bump(count * sizeof *node->entries + 1);
  memcpy(node->entries, scratch, count * sizeof *node->entries);
  node->order = bump((2 * count + 1) * sizeof *node->order);
  size_t subdirs = 0;
  for (size_t i = 0; i < count; i++) {
    struct rentry *e = &node->entries[i];
    struct stat st;
    if (!valid_utf8((const unsigned char *)e->name, e->name_len)) {
      e->kind = R_UNDECODABLE;
    } else if (fstatat(node->fd, e->name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      e->kind = errno == ENOENT ? R_VANISHED : R_FAILED;
      e->error = errno;
    } else {
      e->st = (struct rstat){(uint32_t)st.st_mode, st.st_uid, st.st_gid, (uint32_t)st.st_nlink,
                             (uint64_t)st.st_size, (uint64_t)st.st_dev, (uint64_t)st.st_ino,
                             (uint64_t)st.st_rdev, ns_of(&st.st_mtim), ns_of(&st.st_ctim)};
      if (S_ISLNK(st.st_mode)) {
        ssize_t n = readlinkat(node->fd, e->name, target, 4096);
        e->link_len = n > 0 ? (uint32_t)n : 0;
        e->link = bump(e->link_len + 1);
        memcpy(e->link, target, e->link_len);
      }
    }
    node->order[node->items++] = (struct ritem){e, 0};
    if (e->kind == R_STAT && S_ISDIR(e->st.mode)) {
      node->order[node->items++] = (struct ritem){e, 1};
      subdirs++;
    }
  }
  qsort(node->order, node->items, sizeof *node->order, ritem_cmp);
  return subdirs;
}

/* Queues a listed directory's subdirectories (under rq_lock); its fd stays open until they are opened. */
static void rescan_queue(struct rnode *node, size_t subdirs) {
  node->pending = (int)subdirs;
  if (subdirs == 0) {
    close(node->fd);
    return;
  }
  if (rq_len + subdirs > rq_cap) {
    while (rq_len + subdirs > rq_cap) rq_cap = rq_cap ? rq_cap * 2 : 256;
    rq = xrealloc(rq, rq_cap * sizeof *rq);
  }
  /* Pushed in reverse so the stack pops them in walk order: the frontier, and so the open fds, stay small. */
  for (size_t i = node->items; i-- > 0;) {
    if (node->order[i].enter) rq[rq_len++] = (struct rjob){node, node->order[i].entry};
  }
  pthread_cond_broadcast(&rq_ready);
}

static void *rescan_worker(void *unused) {
  (void)unused;
  pthread_mutex_lock(&rq_lock);
  for (;;) {
    while (rq_len == 0 && rq_busy > 0) pthread_cond_wait(&rq_ready, &rq_lock);
    if (rq_len == 0) break;
    struct rjob job = rq[--rq_len];
    rq_busy++;
    pthread_mutex_unlock(&rq_lock);
    struct rnode *node;
    if (job.parent == NULL) {
      node = &root_node;
      node->fd = root_fd;
    } else {
      node = bump(sizeof *node);
      memset(node, 0, sizeof *node);
      struct rnode *parent = job.parent;
      struct rentry *e = job.entry;
      node->rel_len = parent->rel_len + (parent->rel_len > 0 ? 1 : 0) + e->name_len;
      node->rel = bump(node->rel_len + 1);
      size_t at = 0;
      if (parent->rel_len > 0) {
        memcpy(node->rel, parent->rel, parent->rel_len);
        node->rel[parent->rel_len] = '/';
        at = parent->rel_len + 1;
      }
      memcpy(node->rel + at, e->name, e->name_len + 1);
      node->dev = e->st.dev;
      node->fd = openat(parent->fd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (node->fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) node->missing = 1;
        else node->error = errno;
      }
      e->child = node;
    }
    size_t subdirs = node->fd >= 0 ? rescan_list(node) : 0;
    /* One locked section per directory: release the parent, queue the children, take the next. */
    pthread_mutex_lock(&rq_lock);
    if (job.parent != NULL && --job.parent->pending == 0) close(job.parent->fd);
    if (node->fd >= 0) rescan_queue(node, subdirs);
    rq_busy--;
    if (rq_len == 0 && rq_busy == 0) pthread_cond_broadcast(&rq_ready);
  }
  pthread_cond_broadcast(&rq_ready);
  pthread_mutex_unlock(&rq_lock);
  return NULL;
}

/* The previous snapshot, checked; its columns are read in place (unaligned, hence the memcpy). */
static size_t p_count;
static const char *p_paths;
static uint32_t *p_off;
static const unsigned char *p_type, *p_mode, *p_uid, *p_gid, *p_nlink, *p_size, *p_dev, *p_ino, *p_rdev,
    *p_mtime, *p_ctime;
static const char **p_link;
static uint32_t *p_link_len;
static int read_xattrs_flag;

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define P_FIELD(type, column, row) \
  ({ \
    type value_; \
    memcpy(&value_, (column) + (size_t)(row) * sizeof(type), sizeof(type)); \
    value_; \
  })

/* Reads exactly n bytes of stdin into p; dies at an early end. */
static void read_exactly(void *p, size_t n) {
  char *at = p;
  while (n > 0) {
    ssize_t r = read(0, at, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) die("malformed input: the previous snapshot ends early");
    at += r;
    n -= (size_t)r;
  }
}

static const unsigned char *column(const unsigned char **at, const unsigned char *end, size_t width) {
  size_t bytes = p_count * width;
  if ((size_t)(end - *at) < bytes) die("malformed input: a column is cut short");
  const unsigned char *start = *at;
  *at += bytes;
  return start;
}

static void read_previous(void) {
  unsigned char head[12];
  read_exactly(head, sizeof head);
  p_count = le32(head);
  size_t path_bytes = le32(head + 4), link_bytes = le32(head + 8);
  if (p_count > (1u << 28)) die("malformed input: too many entries");
  size_t row = 1 + 2 + 4 * 3 + 8 * 6;
  size_t total = path_bytes + p_count * row + link_bytes;
  unsigned char *data = chunk_of(total + 1);
  read_exactly(data, total);
  unsigned char extra;
  if (read(0, &extra, 1) > 0) die("malformed input: trailing bytes");
  p_paths = (const char *)data;
  p_off = chunk_of((p_count + 1) * sizeof *p_off);
  size_t at = 0;
  for (size_t i = 0; i < p_count; i++) {
    const char *nul = at < path_bytes ? memchr(p_paths + at, '\0', path_bytes - at) : NULL;
    if (nul == NULL) die("malformed input: fewer paths than entries");
    p_off[i] = (uint32_t)at;
    /* The merge relies on byte order: a file saved out of order is refused, not misread. */
    if (i > 0 && strcmp(p_paths + p_off[i - 1], p_paths + at) >= 0) die("malformed input: paths out of order");
    at = (size_t)(nul - p_paths) + 1;
  }
  if (at != path_bytes) die("malformed input: more paths than entries");
  p_off[p_count] = (uint32_t)at;
  const unsigned char *c = data + path_bytes, *end = data + total;
  p_type = column(&c, end, 1);
  p_mode = column(&c, end, 2);
  p_uid = column(&c, end, 4);
  p_gid = column(&c, end, 4);
  p_nlink = column(&c, end, 4);
  p_size = column(&c, end, 8);
  p_dev = column(&c, end, 8);
  p_ino = column(&c, end, 8);
  p_rdev = column(&c, end, 8);
  p_mtime = column(&c, end, 8);
  p_ctime = column(&c, end, 8);
  p_link = chunk_of((p_count + 1) * sizeof *p_link);
  p_link_len = chunk_of((p_count + 1) * sizeof *p_link_len);
  while (c < end) {
    if (end - c < 8) die("malformed input: a symlink target is cut short");
    uint32_t r = le32(c), len = le32(c + 4);
    c += 8;
    if (r >= p_count || (size_t)(end - c) < len) die("malformed input: a symlink target is out of range");
    p_link[r] = (const char *)c;
    p_link_len[r] = len;
    c += len;
  }
}

static int type_code(mode_t mode) {
  switch (mode & S_IFMT) {
  case S_IFREG: return 0;
  case S_IFDIR: return 1;
  case S_IFLNK: return 2;
  case S_IFCHR: return 3;
  case S_IFBLK: return 4;
  case S_IFIFO: return 5;
  default: return -1;
  }
}

static int same_as_previous(size_t p, const struct rentry *e) {
  const struct rstat *st = &e->st;
  int type = type_code(st->mode);
  if (type < 0 || p_type[p] != type) return 0;
  if (P_FIELD(uint16_t, p_mode, p) != (st->mode & 07777)) return 0;
  if (P_FIELD(uint32_t, p_uid, p) != st->uid || P_FIELD(uint32_t, p_gid, p) != st->gid) return 0;
  if (P_FIELD(uint32_t, p_nlink, p) != st->nlink) return 0;
  if (P_FIELD(double, p_size, p) != (type == 0 ? (double)st->size : 0)) return 0;
  if (P_FIELD(double, p_dev, p) != (double)st->dev || P_FIELD(double, p_ino, p) != (double)st->ino) return 0;
  if (P_FIELD(int64_t, p_mtime, p) != st->mtime || P_FIELD(int64_t, p_ctime, p) != st->ctime) return 0;
  if ((type == 3 || type == 4) && P_FIELD(double, p_rdev, p) != (double)st->rdev) return 0;
  if (type == 2) {
    const char *link = p_link[p] ? p_link[p] : "";
    uint32_t len = p_link[p] ? p_link_len[p] : 0;
    if (len != e->link_len || memcmp(link, e->link ? e->link : "", len) != 0) return 0;
  }
  return 1;
}

static size_t p_cursor, keep_start, keep_count;
static struct buf path;

static void flush_keep(void) {
  if (keep_count == 0) return;
  size_t at = begin_record('K');
  put_le(keep_start, 4);
  put_le(keep_count, 4);
  end_record(at);
  keep_count = 0;
}

static void path_record(char tag) {
  flush_keep();
  size_t at = begin_record(tag);
  put_le(path.len, 2);
  buf_put(&out, path.data, path.len);
  end_record(at);
}

static void rescan_entry(const struct rentry *e) {
  while (p_cursor < p_count && strcmp(p_paths + p_off[p_cursor], path.data) < 0) p_cursor++;
  size_t p = p_cursor < p_count && strcmp(p_paths + p_off[p_cursor], path.data) == 0 ? p_cursor++ : (size_t)-1;
  if (p != (size_t)-1 && same_as_previous(p, e)) {
    if (keep_count > 0 && keep_start + keep_count == p) keep_count++;
    else {
      flush_keep();
      keep_start = p;
      keep_count = 1;
    }
    return;
  }
  flush_keep();
  size_t at = begin_record('E');
  put_le(p == (size_t)-1 ? 0xffffffffu : (uint32_t)p, 4);
  put_le(path.len, 2);
  buf_put(&out, path.data, path.len);
  const struct rstat *st = &e->st;
  put_le(st->mode, 4);
  put_le(st->uid, 4);
  put_le(st->gid, 4);
  put_le(st->nlink, 4);
  put_le(st->size, 8);
  put_le(st->dev, 8);
  put_le(st->ino, 8);
  put_le(st->rdev, 8);
  put_le((uint64_t)st->mtime, 8);
  put_le((uint64_t)st->ctime, 8);
  if (S_ISLNK(st->mode)) {
    put_le(e->link_len, 2);
    buf_put(&out, e->link ? e->link : "", e->link_len);
  }
  if (read_xattrs_flag) read_xattrs_into(path.data, &out);
  else put_le(0, 2);
  end_record(at);
}

/* Emits `node`'s subtree in path order; `path` holds its relative path. */
static void rescan_emit(const struct rnode *node) {
  if (node->error != 0) {
    flush_keep();
    size_t at = begin_record('F');
    put_le((uint32_t)node->error, 4);
    put_le(path.len, 2);
    buf_put(&out, path.data, path.len);
    end_record(at);
    return;
  }
  size_t saved = path.len;
  for (size_t i = 0; i < node->items; i++) {
    const struct rentry *e = node->order[i].entry;
    path.len = saved;
    if (saved > 0) buf_putc(&path, '/');
    buf_put(&path, e->name, e->name_len);
    if (node->order[i].enter) {
      if (e->child != NULL && !e->child->missing) rescan_emit(e->child);
    } else if (e->kind == R_VANISHED) {
      path_record('V');
    } else if (e->kind == R_UNDECODABLE) {
      path_record('U');
    } else if (e->kind == R_FAILED) {
      flush_keep();
      size_t at = begin_record('F');
      put_le((uint32_t)e->error, 4);
      put_le(path.len, 2);
      buf_put(&out, path.data, path.len);
      end_record(at);
    } else {
      rescan_entry(e);
    }
  }
  path.len = saved;
  buf_reserve(&path, 0);
  path.data[saved] = '\0';
}

static int run_rescan(void) {
  /* The previous snapshot is tens of MB on a big tree: a 1 MiB pipe takes it in ~30 writes, not ~500. */
  fcntl(0, F_SETPIPE_SZ, 1 << 20);
  unsigned char head[16];
  read_exactly(head, sizeof head);
  if (memcmp(head, "KRS1", 4) != 0) die("malformed input: not a rescan request");
  size_t threads = le32(head + 4);
  read_xattrs_flag = (le32(head + 8) & 1) != 0;
  size_t ignored_bytes = le32(head + 12);
  if (ignored_bytes > (1u << 24)) die("malformed input: ignore rules too long");
  char *rules = xrealloc(NULL, ignored_bytes + 1);
  read_exactly(rules, ignored_bytes);
  rules[ignored_bytes] = '\0';
  for (size_t i = 0; i < ignored_bytes; i += strlen(rules + i) + 1) {
    if (rules[i] == '\0') continue;
    ignored = xrealloc(ignored, (ignored_count + 1) * sizeof *ignored);
    ignored_len = xrealloc(ignored_len, (ignored_count + 1) * sizeof *ignored_len);
    ignored[ignored_count] = rules + i;
    ignored_len[ignored_count++] = strlen(rules + i);
  }
  if (threads < 1) threads = 1;
  if (threads > 16) threads = 16;
  /* Every queued directory's parent stays open until its children are opened: allow plenty of fds. */
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  root_node.rel = "";
  root_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) root_node.error = errno;
  struct statfs fs;
  struct stat root_st;
  if (root_fd >= 0 && fstatfs(root_fd, &fs) == 0 && fstat(root_fd, &root_st) == 0) {
    root_dev = root_node.dev = (uint64_t)root_st.st_dev;
    /* Only for directories on the root's device (`dev`): a mount below may be another filesystem. */
    unsigned long type = (unsigned long)fs.f_type;
    short_reads_end = type == 0xEF53 || type == 0x58465342 || type == 0x9123683E || type == 0x01021994;
  }
  pthread_t *workers = xrealloc(NULL, threads * sizeof *workers);
  size_t started = 0;
  if (root_fd >= 0) {
    rq_cap = 256;
    rq = xrealloc(NULL, rq_cap * sizeof *rq);
    rq[rq_len++] = (struct rjob){NULL, NULL};
    /* Workers block every signal: getdents64 cuts a reply short for a pending one, which would read as
     * the end of a directory (see short_reads_end); signals go to this thread, and kill the process. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (; started < threads; started++)
      if (pthread_create(&workers[started], NULL, rescan_worker, NULL) != 0) break;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (started == 0) die("cannot start a thread");
  }
  read_previous();
  for (size_t i = 0; i < started; i++) pthread_join(workers[i], NULL);
  buf_reserve(&path, 0);
  rescan_emit(&root_node);
  flush_keep();
  write_all(out.data, out.len);
  return 0;
}

/* --- set: a JSON array of [path, name, hex] string triples --- */

static const char *json_pos, *json_end;

static void skip_space(void) {
  while (json_pos < json_end &&
         (*json_pos == ' ' || *json_pos == '\t' || *json_pos == '\n' || *json_pos == '\r'))
    json_pos++;
}

static void expect_char(char c) {
  skip_space();
  if (json_pos >= json_end || *json_pos != c) die("malformed JSON input");
  json_pos++;
}

static int peek_char(char c) {
  skip_space();
  return json_pos < json_end && *json_pos == c;
}

static unsigned hex4(void) {
  if (json_end - json_pos < 4) die("malformed JSON escape");
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = *json_pos++;
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else die("malformed JSON escape");
  }
  return v;
}

static void put_utf8(struct buf *b, unsigned cp) {
  if (cp < 0x80) {
    buf_putc(b, (char)cp);
  } else if (cp < 0x800) {
    buf_putc(b, (char)(0xc0 | (cp >> 6)));
    buf_putc(b, (char)(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    buf_putc(b, (char)(0xe0 | (cp >> 12)));
    buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
    buf_putc(b, (char)(0x80 | (cp & 0x3f)));
  } else {
    buf_putc(b, (char)(0xf0 | (cp >> 18)));
    buf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
    buf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
    buf_putc(b, (char)(0x80 | (cp & 0x3f)));
  }
}

/* Parses one JSON string into b (NUL-terminated; b->len excludes the NUL). */
static void parse_string(struct buf *b) {
  b->len = 0;
  buf_reserve(b, 0);
  b->data[0] = '\0';
  expect_char('"');
  for (;;) {
    if (json_pos >= json_end) die("unterminated JSON string");
    char c = *json_pos++;
    if (c == '"') return;
    if (c != '\\') {
      buf_putc(b, c);
      continue;
    }
    if (json_pos >= json_end) die("malformed JSON escape");
    c = *json_pos++;
    switch (c) {
    case '"': buf_putc(b, '"'); break;
    case '\\': buf_putc(b, '\\'); break;
    case '/': buf_putc(b, '/'); break;
    case 'b': buf_putc(b, '\b'); break;
    case 'f': buf_putc(b, '\f'); break;
    case 'n': buf_putc(b, '\n'); break;
    case 'r': buf_putc(b, '\r'); break;
    case 't': buf_putc(b, '\t'); break;
    case 'u': {
      unsigned cp = hex4();
      if (cp >= 0xd800 && cp < 0xdc00 && json_end - json_pos >= 6 && json_pos[0] == '\\' &&
          json_pos[1] == 'u') {
        const char *save = json_pos;
        json_pos += 2;
        unsigned low = hex4();
        if (low >= 0xdc00 && low < 0xe000) cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        else json_pos = save;
      }
      put_utf8(b, cp);
      break;
    }
    default: die("malformed JSON escape");
    }
  }
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static void put_json_string(struct buf *out, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  buf_putc(out, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      buf_putc(out, '\\');
      buf_putc(out, (char)c);
    } else if (c < 0x20) {
      char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      buf_put(out, esc, sizeof esc);
    } else {
      buf_putc(out, (char)c);
    }
  }
  buf_putc(out, '"');
}

static int run_set(void) {
  struct buf input = {0}, out = {0}, path = {0}, name = {0}, hexvalue = {0}, value = {0};
  read_all_stdin(&input);
  json_pos = input.data ? input.data : "";
  json_end = json_pos + input.len;
  buf_putc(&out, '[');
  int failures = 0;
  expect_char('[');
  int first = 1;
  while (!peek_char(']')) {
    if (!first) expect_char(',');
    first = 0;
    expect_char('[');
    parse_string(&path);
    expect_char(',');
    parse_string(&name);
    expect_char(',');
    parse_string(&hexvalue);
    expect_char(']');
    if (hexvalue.len % 2 != 0) die("odd-length hex value");
    value.len = 0;
    buf_reserve(&value, hexvalue.len / 2);
    for (size_t i = 0; i < hexvalue.len; i += 2) {
      int hi = hex_digit(hexvalue.data[i]), lo = hex_digit(hexvalue.data[i + 1]);
      if (hi < 0 || lo < 0) die("non-hex value");
      value.data[value.len++] = (char)(hi << 4 | lo);
    }
    /* An embedded NUL would silently name another file or attribute: refuse it like Python does. */
    int error = 0;
    if (strlen(path.data) != path.len || strlen(name.data) != name.len) error = EINVAL;
    else if (lsetxattr(path.data, name.data, value.data, value.len, 0) != 0) error = errno;
    if (error != 0) {
      const char *reason = strerror(error);
      if (failures++ > 0) buf_put(&out, ", ", 2);
      buf_putc(&out, '[');
      put_json_string(&out, path.data, path.len);
      buf_put(&out, ", ", 2);
      put_json_string(&out, name.data, name.len);
      buf_put(&out, ", ", 2);
      put_json_string(&out, reason, strlen(reason));
      buf_putc(&out, ']');
    }
  }
  expect_char(']');
  skip_space();
  if (json_pos != json_end) die("trailing data after JSON input");
  buf_putc(&out, ']');
  write_all(out.data, out.len);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "get") == 0) return run_get();
  if (argc == 2 && strcmp(argv[1], "get-dirs") == 0) return run_get_dirs();
  if (argc == 2 && strcmp(argv[1], "set") == 0) return run_set();
  if (argc == 2 && strcmp(argv[1], "walk") == 0) return run_walk();
  if (argc == 2 && strcmp(argv[1], "rescan") == 0) return run_rescan();
  fprintf(stderr, "usage: kiln-xattr get|get-dirs|walk|rescan|set (protocol: see xattr-helper.c)\n");
  return 2;
}
