// The change-set contract, read from the snapshot package's types file until its index.ts exports it.
export type { Change, ChangeSet, Entry } from '../../snapshot/src/types.ts';
