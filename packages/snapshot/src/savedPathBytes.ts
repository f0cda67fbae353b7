import type { EntryColumns } from './entryColumns.ts';

/**
 * The paths of columns as UTF-8 joined by NUL (no trailing NUL), where they exist as bytes already (a
 * snapshot loaded from a file): a rescan hands them to `kiln-xattr rescan` without joining and encoding
 * every path again, and the loaded snapshot need never split them into strings.
 */
export const savedPathBytes = new WeakMap<EntryColumns, Uint8Array>();
